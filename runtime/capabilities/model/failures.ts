// How a provider call fails: MODEL_ERROR with the provider's words (key redacted), bounded retries of 429 and 5xx
// within the call's deadline, and cancellation that surfaces as the reason the call was aborted.
import { WardenError } from "../../errors.ts";

/** Retries after the first attempt, and the backoff between them when the provider gives no retry-after. */
export const RETRY = { retries: 3, baseMs: 250, maxMs: 8000 } as const;

const MAX_MESSAGE_CHARS = 500;

/** A MODEL_ERROR: safe for a guest (no key, no host path); the cause, redacted, stays for the host. */
export function modelError(message: string, cause?: unknown): WardenError {
  const error = new WardenError("MODEL_ERROR", message);
  if (cause !== undefined) error.cause = cause;
  return error;
}

/**
 * Removes a key from text a provider wrote (OpenAI echoes a masked key on 401), and anything shaped like one,
 * and cuts it to a line a log can hold.
 */
export function redactKey(text: string, key: string | undefined): string {
  let out = text;
  if (key && key.length >= 4) out = out.split(key).join("[redacted]");
  out = out.replace(/\b(sk|key|ak)-[A-Za-z0-9_*.-]{6,}/g, "[redacted]");
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed.
  out = out.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
  return out.length > MAX_MESSAGE_CHARS ? `${out.slice(0, MAX_MESSAGE_CHARS)}...` : out;
}

/** What the SDKs' APIError carries that matters here (both SDKs share the shape). */
interface HttpFailure {
  status: number;
  headers?: Headers;
  message: string;
}

function isHttpFailure(error: unknown): error is HttpFailure {
  return error instanceof Error && typeof (error as { status?: unknown }).status === "number";
}

/** Milliseconds a 429 or 503 asks to wait: retry-after-ms, retry-after in seconds, or an HTTP date. */
export function retryAfterMs(headers: Headers | undefined, now = Date.now()): number | undefined {
  const ms = headers?.get("retry-after-ms");
  if (ms && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const value = headers?.get("retry-after");
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export type Failure =
  | { retry: false; error: WardenError }
  | { retry: true; error: WardenError; afterMs?: number };

/** Sorts an error an SDK threw into retry-or-not, with the guest-safe error to report. */
export function classify(provider: string, error: unknown, key: string | undefined): Failure {
  if (error instanceof WardenError) return { retry: false, error };
  if (isHttpFailure(error)) {
    const words = redactKey(error.message, key);
    const safe = modelError(`${provider} answered HTTP ${error.status}: ${words}`, new Error(words));
    const retry = error.status === 429 || error.status >= 500;
    return retry ? { retry, error: safe, afterMs: retryAfterMs(error.headers) } : { retry, error: safe };
  }
  const words = error instanceof Error ? redactKey(error.message, key) : "unknown failure";
  const name = error instanceof Error ? error.name : "";
  if (name === "APIConnectionError") {
    return { retry: true, error: modelError(`could not reach ${provider}: ${words}`, new Error(words)) };
  }
  if (name === "APIConnectionTimeoutError") {
    return { retry: false, error: modelError(`${provider} did not answer in time`, new Error(words)) };
  }
  // A body that is not JSON, an SSE line that does not parse, a shape the SDK did not expect: the provider's
  // fault (or a proxy's), never Warden's, so never INTERNAL.
  return {
    retry: false,
    error: modelError(`${provider} sent a malformed response: ${words}`, new Error(words)),
  };
}

/** Why a call stopped when its signal fired: the kernel's own reason (run ended, handle revoked) if it gave one. */
export function abortReason(signal: AbortSignal | undefined, provider: string): WardenError {
  const reason: unknown = signal?.reason;
  if (reason instanceof WardenError) return reason;
  if (reason instanceof Error && reason.name === "TimeoutError")
    return modelError(`${provider} did not answer before the call's deadline`);
  return modelError(`the call to ${provider} was cancelled`);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener("abort", stop);
      resolve();
    }
    function stop() {
      clearTimeout(timer);
      reject(signal?.reason);
    }
    signal?.addEventListener("abort", stop, { once: true });
  });
}

/**
 * Runs `attempt` until it succeeds, fails for good, or a retry would end past the deadline. 429s wait what
 * retry-after says; other retries back off exponentially from RETRY.baseMs.
 */
export async function withRetries<T>(
  provider: string,
  key: string | undefined,
  options: { signal?: AbortSignal; deadline?: number },
  attempt: (timeoutMs: number) => Promise<T>,
): Promise<T> {
  const deadline = options.deadline ?? Number.POSITIVE_INFINITY;
  for (let n = 0; ; n++) {
    if (options.signal?.aborted) throw abortReason(options.signal, provider);
    const left = deadline - Date.now();
    if (left <= 0) throw modelError(`${provider} did not answer before the call's deadline`);
    try {
      return await attempt(Math.min(left, 2 ** 31 - 1));
    } catch (error) {
      if (options.signal?.aborted) throw abortReason(options.signal, provider);
      const failure = classify(provider, error, key);
      if (!failure.retry) throw failure.error;
      if (n >= RETRY.retries) throw failure.error;
      const wait = failure.afterMs ?? Math.min(RETRY.maxMs, RETRY.baseMs * 2 ** n);
      if (Date.now() + wait >= deadline) {
        throw modelError(
          `${failure.error.message} (not retried: waiting ${Math.ceil(wait / 1000)} s would pass the call's deadline)`,
          failure.error.cause,
        );
      }
      try {
        await sleep(wait, options.signal);
      } catch {
        throw abortReason(options.signal, provider);
      }
    }
  }
}
