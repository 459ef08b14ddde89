// Checking a value against a JSON Schema in a second context of an isolate, where no tool code ever ran:
// written once for the backends whose sandboxes are isolates (v8, wasm).
import type ivm from "isolated-vm";
import { SYNC_CHECK_MS } from "./bounds.ts";

type Ref = ivm.Reference<(...args: unknown[]) => unknown>;

const COPY = { arguments: { copy: true }, result: { copy: true } } as const;

/**
 * The guest runtime's `checkOutput` in a context of its own. A tool that poisons its own built-ins cannot
 * fake this check, and any cost the schema carries (regexes) is charged to the sandbox's own limits.
 */
export class SecondContextChecker {
  private readonly isolate: ivm.Isolate;
  private readonly dead: () => boolean;
  private ref: Ref | undefined;

  constructor(isolate: ivm.Isolate, dead: () => boolean) {
    this.isolate = isolate;
    this.dead = dead;
  }

  /** Builds the checker for a schema ahead of time (within a load's limits), so later checks are quick. */
  async prepare(schemaJson: string): Promise<void> {
    await this.current().apply(undefined, [schemaJson, "null"], COPY);
  }

  /** "" if the value matches the schema, else what is wrong with it. */
  async check(schemaJson: string, valueJson: string): Promise<string> {
    const args = [schemaJson, valueJson];
    // Most checks take microseconds: done synchronously, they skip a thread-pool round trip. The short
    // timeout bounds how long a costly schema can hold the host's thread; such a check is redone off it.
    try {
      return String(this.current().applySync(undefined, args, { ...COPY, timeout: SYNC_CHECK_MS }));
    } catch (error) {
      if (this.dead() || !(error instanceof Error) || !/timed out/i.test(error.message)) throw error;
      // A check stopped part-way can leave zod half-initialized in its context (later checks then fail
      // with "i.safeParse is not a function"): the retry, and every later check, get a fresh context.
      this.ref = undefined;
    }
    return String(await this.current().apply(undefined, args, COPY));
  }

  private current(): Ref {
    if (!this.ref) {
      const context = this.isolate.createContextSync();
      const warden = context.global.getSync("__warden", { reference: true }) as ivm.Reference<
        Record<string, unknown>
      >;
      this.ref = warden.getSync("checkOutput", { reference: true }) as Ref;
    }
    return this.ref;
  }
}
