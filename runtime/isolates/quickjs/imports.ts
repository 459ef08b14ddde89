// Which modules a QuickJS tool may import, and when: warden/sdk and zod, only while the tool module links.
// QuickJS resolves dynamic import() through the same hooks, so outside linking every import is refused.
import { WardenError } from "../../errors.ts";
import { ALLOWED_IMPORTS } from "../prelude.ts";

export class ImportGate {
  private linking = false;
  /** The first import the tool asked for that is not allowed, reported as the load's error. */
  private refused: string | undefined;

  /** Runs `link` (the tool module's evaluation) with static imports allowed, then refuses them again. */
  linkWith<T>(link: () => T): T {
    this.linking = true;
    try {
      return link();
    } finally {
      this.linking = false;
    }
  }

  /** The load error for a refused static import, if the module had one. */
  refusal(): WardenError | undefined {
    if (this.refused === undefined) return undefined;
    return new WardenError(
      "LOAD_ERROR",
      `the tool imports "${this.refused}"; a tool may import only ${[...ALLOWED_IMPORTS.keys()].join(" and ")} (bundle anything else into the tool file)`,
    );
  }

  /** QuickJS's module normalizer: an allowed name resolves to itself; anything else throws into the guest. */
  resolve(requested: string): string {
    if (!this.linking) throw new Error(`cannot import "${requested}"`);
    if (!ALLOWED_IMPORTS.has(requested)) {
      this.refused ??= requested;
      throw new Error(`cannot import "${requested}"`);
    }
    return requested;
  }

  /** QuickJS's module loader: the source of an allowed module, served only while linking. */
  source(name: string): string | { error: Error } {
    const source = this.linking ? ALLOWED_IMPORTS.get(name) : undefined;
    return source ?? { error: new Error(`cannot import "${name}"`) };
  }
}
