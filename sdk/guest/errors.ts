// The error class guests see: a stable code and a message, as the kernel sent them. Runs inside sandboxes.

export class WardenError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "WardenError";
    this.code = code;
  }
}
