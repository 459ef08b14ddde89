// Turning what comes back from a sandbox into output or a WardenError: the result envelope and limit errors.
import { WardenError } from "../errors.ts";
import { jsonTextOver, jsonTextTooDeep, MAX_JSON_DEPTH } from "../protocol/depth.ts";
import { clip, firstLine, TEXT_BOUNDS } from "../text-bounds.ts";
import type { Limits } from "./types.ts";

/**
 * How large a tool's definition (name, description, schemas, capabilities) may be, as JSON text and in JSON
 * values. The host parses and checks it, so its size would set the cost on the kernel's thread (a 16 MiB
 * schema held it for seconds); real definitions are a few KiB.
 */
export const MAX_DESCRIPTION_CHARS = 1 << 20;
export const MAX_DESCRIPTION_VALUES = 50_000;

/**
 * The definition text a guest's describe() returned, parsed once its size and depth are known to be bounded
 * (a guest can replace JSON.stringify, so the text is whatever it chose): LOAD_ERROR otherwise.
 */
export function parseDescription(text: string): unknown {
  const over =
    text.length > MAX_DESCRIPTION_CHARS
      ? "values"
      : jsonTextOver(text, { depth: MAX_JSON_DEPTH, values: MAX_DESCRIPTION_VALUES });
  if (over === "values") {
    throw new WardenError(
      "LOAD_ERROR",
      `the tool's definition is over ${MAX_DESCRIPTION_CHARS >> 20} MiB or ${MAX_DESCRIPTION_VALUES.toLocaleString("en-US")} JSON values; a definition must be smaller`,
    );
  }
  if (over === "depth") {
    throw new WardenError(
      "LOAD_ERROR",
      `the tool's definition is nested more than ${MAX_JSON_DEPTH} levels deep (arrays and objects)`,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new WardenError("LOAD_ERROR", "the tool's definition is not JSON");
  }
}

/** Parses the guest's result envelope (untrusted) into the output JSON, or throws the error it reports. */
export function parseEnvelope(envelope: unknown, limits: Limits): string {
  if (typeof envelope !== "string")
    throw new WardenError("TOOL_ERROR", "the tool returned something other than a result");
  const maxChars = limits.outputKb * 1024;
  if (envelope.length > maxChars + 64) throw outputTooLarge(envelope.length, limits);
  // The envelope adds one level. Checked before anything walks the output (this function's stringify, the
  // output check, the caller's encoding), each of which recurses.
  if (jsonTextTooDeep(envelope, MAX_JSON_DEPTH + 1)) {
    throw new WardenError(
      "INVALID_OUTPUT",
      `the tool's output is nested more than ${MAX_JSON_DEPTH} levels deep (arrays and objects)`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(envelope);
  } catch {
    throw new WardenError("TOOL_ERROR", "the tool returned a malformed result (not JSON)");
  }
  // A structural check, not a schema pass: JSON.parse already guarantees the output holds only JSON values,
  // and walking a large output again would cost more than the call.
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw malformed();
  const result = raw as {
    ok?: unknown;
    output?: unknown;
    error?: { code?: unknown; message?: unknown } | null;
  };
  if (result.ok === false) {
    const code = result.error?.code;
    const message = result.error?.message;
    if (typeof code !== "string" || typeof message !== "string") throw malformed();
    // The code is the guest's claim; the runtime decides whether to believe it (see runtime/tool.ts).
    throw new GuestReportedError(code, message);
  }
  if (result.ok !== true || !("output" in result)) throw malformed();
  // Measured again as the host encodes it: lone surrogates the guest sent raw come back six times longer.
  const output = JSON.stringify(result.output);
  if (output.length > maxChars) throw outputTooLarge(output.length, limits);
  return output;
}

function malformed(): WardenError {
  return new WardenError("TOOL_ERROR", "the tool returned a malformed result");
}

function outputTooLarge(chars: number, limits: Limits): WardenError {
  return new WardenError(
    "LIMIT_EXCEEDED",
    `the tool's output is about ${Math.ceil(chars / 1024)} KiB, over its output limit of ${limits.outputKb} KiB (raise it with --output-kb or outputKb)`,
  );
}

/**
 * An error as the guest reported it: not yet trusted, and bounded here, on the host: the guest runtime cuts
 * long messages too, but with the guest's own String.prototype, which a tool can replace.
 */
export class GuestReportedError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(clip(message, TEXT_BOUNDS.message));
    this.code = clip(code, TEXT_BOUNDS.code);
  }
}

const LIMIT_WORDS = {
  wall: (l: Limits) => `its wall-time limit of ${l.timeoutMs} ms (raise it with --timeout-ms or timeoutMs)`,
  cpu: (l: Limits) => `its CPU-time limit of ${l.cpuMs} ms (raise it with --cpu-ms or cpuMs)`,
  memory: (l: Limits) => `its memory limit of ${l.memoryMb} MiB (raise it with --memory-mb or memoryMb)`,
  flood: () =>
    "the limit on handle calls waiting for the kernel (await calls instead of firing them in a loop)",
};

export function limitError(
  kind: keyof typeof LIMIT_WORDS | "crash",
  phase: "load" | "call",
  limits: Limits,
): WardenError {
  const what = phase === "load" ? "loading the tool" : "the tool call";
  if (kind === "crash")
    return new WardenError(
      "SANDBOX_CRASHED",
      `the sandbox crashed during ${what}; the next call starts a fresh one`,
    );
  return new WardenError("LIMIT_EXCEEDED", `${what} exceeded ${LIMIT_WORDS[kind](limits)}`);
}

/**
 * What a failed load or call tells its caller, for every backend's phase runner: Warden's own errors as they
 * are, a killed sandbox as the limit that killed it, anything else as the guest's own exception (its first
 * line, never its stack).
 */
export function phaseError(
  error: unknown,
  phase: "load" | "call",
  killed: Parameters<typeof limitError>[0] | undefined,
  limits: Limits,
): Error {
  if (error instanceof WardenError || error instanceof GuestReportedError) return error;
  if (killed !== undefined) return limitError(killed, phase, limits);
  const message = error instanceof Error ? error.message : String(error);
  return new WardenError(phase === "load" ? "LOAD_ERROR" : "TOOL_ERROR", firstLine(message, 2000));
}
