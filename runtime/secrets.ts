// The kernel's secret store: credentials named by the operator, read from the kernel's environment or a file,
// handed to kernel-side code by name and never to a guest, the audit log, an error or a log line.
import { open } from "node:fs/promises";
import { resolve } from "node:path";
import { WardenError } from "./errors.ts";

/** Where a secret's value comes from: a variable of the kernel's environment, or a file the operator names. */
export type SecretSource = { env: string } | { file: string };

/** Names: what policies, flags and `${secret:NAME}` references use. */
export const SECRET_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A credential is small; a bigger file is a mistake, and reading it would cost the kernel. */
export const MAX_SECRET_BYTES = 64 * 1024;
// A value goes into a header: visible ASCII, space, tab and obs-text, so it can never split a request.
const HEADER_SAFE = /^[\t\x20-\x7e\x80-\xff]+$/;
const REDACTED = "[secret]";

export interface SecretStore {
  /** The defined names, sorted: what `policy check` and `explain` may show. */
  names(): string[];
  has(name: string): boolean;
  /** Where a name's value comes from, in words that never include the value ("the environment variable X"). */
  describe(name: string): string | undefined;
  /** Defines a name; redefining a name with a different source is a USAGE error. */
  define(name: string, source: SecretSource): void;
  /**
   * The value, read now from its source. Throws USAGE naming the secret and its source (never a value) when it
   * is undefined, unset, empty, too large, or unfit for a header. For kernel-side code only.
   */
  resolve(name: string): Promise<string>;
  /** `text` with every value this store has handed out replaced by "[secret]": for any text that may hold one. */
  redact(text: string): string;
}

function usage(message: string): WardenError {
  return new WardenError("USAGE", message);
}

function sourceWords(source: SecretSource): string {
  return "env" in source ? `the environment variable ${source.env}` : `the file ${source.file}`;
}

function sameSource(a: SecretSource, b: SecretSource): boolean {
  return "env" in a ? "env" in b && a.env === b.env : "file" in b && a.file === b.file;
}

/** Checks a name and a source; file paths are made absolute against `cwd`. */
export function checkSecret(name: string, source: SecretSource, cwd: string): SecretSource {
  if (!SECRET_NAME.test(name)) {
    throw usage(`secret name "${name}" is not valid: a letter, then up to 63 letters, digits, "_" or "-"`);
  }
  if ("env" in source) {
    if (!ENV_NAME.test(source.env))
      throw usage(`secret "${name}": "${source.env}" is not an environment variable name`);
    return { env: source.env };
  }
  if (source.file === "") throw usage(`secret "${name}": the file path is empty`);
  return { file: resolve(cwd, source.file) };
}

/** Parses the CLI's `--secret NAME=env:VAR` or `--secret NAME=file:PATH`. */
export function parseSecretFlag(text: string): { name: string; source: SecretSource } {
  const match = /^([^=]+)=(env|file):(.*)$/s.exec(text);
  if (!match) {
    throw usage(
      `--secret takes NAME=env:VAR or NAME=file:PATH (e.g. github=env:GITHUB_TOKEN), got "${text}"`,
    );
  }
  const [, name, type, rest] = match;
  return { name: name!, source: type === "env" ? { env: rest! } : { file: rest! } };
}

/** The file's text, or undefined when it holds more than MAX_SECRET_BYTES (never read past that). */
async function readCapped(path: string): Promise<string | undefined> {
  const file = await open(path, "r");
  try {
    const buffer = new Uint8Array(MAX_SECRET_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await file.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return length > MAX_SECRET_BYTES ? undefined : Buffer.from(buffer.subarray(0, length)).toString("utf8");
  } finally {
    await file.close();
  }
}

/**
 * A store over `sources`. `env` is the environment values come from (default: the kernel's own
 * `process.env`); relative file paths resolve against `cwd`.
 */
export function createSecretStore(
  sources: Readonly<Record<string, SecretSource>> = {},
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): SecretStore {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const defined = new Map<string, SecretSource>();
  // Every value handed out, so redact() can find it in any text; longest first, so no value hides another.
  const seen = new Set<string>();

  async function read(name: string, source: SecretSource): Promise<string> {
    if ("env" in source) {
      const value = env[source.env];
      if (value === undefined)
        throw usage(`secret "${name}" comes from ${sourceWords(source)}, which is not set`);
      return value;
    }
    let text: string | undefined;
    try {
      text = await readCapped(source.file);
    } catch (error) {
      const failure = usage(`secret "${name}" comes from ${sourceWords(source)}, which cannot be read`);
      failure.cause = error;
      throw failure;
    }
    if (text === undefined) {
      throw usage(`secret "${name}" in ${sourceWords(source)} is larger than ${MAX_SECRET_BYTES} bytes`);
    }
    // Files end with a newline by habit; a header value never does.
    return text.replace(/\r?\n$/, "");
  }

  const store: SecretStore = {
    names: () => [...defined.keys()].sort(),
    has: (name) => defined.has(name),
    describe(name) {
      const source = defined.get(name);
      return source && sourceWords(source);
    },
    define(name, source) {
      const checked = checkSecret(name, source, cwd);
      const existing = defined.get(name);
      if (existing && !sameSource(existing, checked)) {
        throw usage(
          `secret "${name}" is defined twice: from ${sourceWords(existing)} and from ${sourceWords(checked)}`,
        );
      }
      defined.set(name, checked);
    },
    async resolve(name) {
      const source = defined.get(name);
      if (!source) {
        const known = store.names();
        throw usage(
          `no secret named "${name}" is defined (define it with --secret ${name}=env:VAR or under secrets: in the policy)${known.length ? `; defined: ${known.join(", ")}` : ""}`,
        );
      }
      const value = await read(name, source);
      if (value === "") throw usage(`secret "${name}" from ${sourceWords(source)} is empty`);
      if (!HEADER_SAFE.test(value)) {
        throw usage(
          `secret "${name}" from ${sourceWords(source)} holds a control character (a line break?); a header value cannot`,
        );
      }
      seen.add(value);
      return value;
    },
    redact(text) {
      let out = text;
      for (const value of [...seen].sort((a, b) => b.length - a.length)) {
        if (out.includes(value)) out = out.split(value).join(REDACTED);
      }
      return out;
    },
  };
  for (const [name, source] of Object.entries(sources)) store.define(name, source);
  return store;
}

/** The secret names a header template refers to with `${secret:NAME}`, in order, without repeats. */
export function secretRefs(template: string): string[] {
  const names: string[] = [];
  for (const match of template.matchAll(/\$\{secret:([^}]*)\}/g)) {
    if (!names.includes(match[1]!)) names.push(match[1]!);
  }
  return names;
}

/** The template with each `${secret:NAME}` replaced by its value, resolved through the store. */
export async function expandTemplate(template: string, store: SecretStore): Promise<string> {
  let out = "";
  let last = 0;
  for (const match of template.matchAll(/\$\{secret:([^}]*)\}/g)) {
    out += template.slice(last, match.index) + (await store.resolve(match[1]!));
    last = match.index + match[0].length;
  }
  return out + template.slice(last);
}
