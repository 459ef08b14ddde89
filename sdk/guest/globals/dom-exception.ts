// DOMException, the error type the web-platform globals throw (DataCloneError, QuotaExceededError, ...).
// Runs inside sandboxes.

/** Legacy numeric codes, for the names these globals use (the WebIDL table). */
const CODES: Record<string, number> = {
  IndexSizeError: 1,
  NotFoundError: 8,
  NotSupportedError: 9,
  InvalidStateError: 11,
  SyntaxError: 12,
  InvalidCharacterError: 5,
  TypeMismatchError: 17,
  QuotaExceededError: 22,
  DataCloneError: 25,
};

export class DOMException extends Error {
  readonly code: number;
  constructor(message = "", name = "Error") {
    super(String(message));
    Object.defineProperty(this, "name", { value: String(name), writable: true, configurable: true });
    this.code = CODES[String(name)] ?? 0;
  }
}
