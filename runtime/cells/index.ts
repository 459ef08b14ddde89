// Cells as the runtime sees them: which backend a load gets (in-process or in a cell), which placement key
// a tool's sandboxes share, and what hardening is in force. The pool starts lazily, on the first cell.
import { WardenError } from "../errors.ts";
import type { Backend } from "../isolates/types.ts";
import { cellBackend } from "./backend.ts";
import { cellCanHost } from "./engines.ts";
import { type BwrapMode, cellLaunch, type Layer } from "./hardening.ts";
import { type CellInfo, CellPool, type PoolOptions } from "./pool.ts";

/** Where sandboxes run: in supervised child processes (the default), or in the kernel's own process. */
export type Isolation = "cell" | "in-process";
export const ISOLATIONS: readonly Isolation[] = ["cell", "in-process"];

export interface CellOptions extends PoolOptions {
  /**
   * Which tools may share a cell: "by-source" (default) keeps each tool file's sandboxes in cells of their
   * own; "all" lets any tools of this runtime share cells (only for tools the operator trusts alike).
   */
  share?: "by-source" | "all";
  /** Bubblewrap around each cell: "auto" (default) when it works here, "require", or "off". */
  bwrap?: BwrapMode;
}

export interface CellReport {
  isolation: Isolation;
  layers: Layer[];
  cells: CellInfo[];
}

export class Cells {
  private readonly options: CellOptions;
  private pool: CellPool | undefined;
  private readonly backends = new Map<string, Backend>();

  constructor(options: CellOptions = {}) {
    this.options = options;
  }

  /** The placement key of a tool whose source is `identity` (its real path). */
  placement(identity: string): string {
    return this.options.share === "all" ? "shared" : `source:${identity}`;
  }

  /** The backend that runs `engine`'s sandboxes in cells. */
  backend(engine: string): Backend {
    let backend = this.backends.get(engine);
    if (!backend) {
      if (!cellCanHost(engine))
        throw new WardenError(
          "USAGE",
          `backend "${engine}" cannot run in a cell (cells host the backends under runtime/isolates/); load it with isolation "in-process"`,
        );
      this.pool ??= new CellPool(() => cellLaunch({ bwrap: this.options.bwrap }), this.options);
      backend = cellBackend(this.pool, engine);
      this.backends.set(engine, backend);
    }
    return backend;
  }

  /** What the OS gives cells here, and the cells running now. Never fails open: inactive layers say why. */
  report(isolation: Isolation): CellReport {
    return {
      isolation,
      layers: cellLaunch({ bwrap: this.options.bwrap }).layers,
      cells: this.pool?.list() ?? [],
    };
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }
}

/**
 * Splits a backend name that may carry its isolation ("v8:in-process", "v8:cell"); a bare name ("v8") takes
 * `fallback`. The combined form lets one string pick both, as test tables and the CLI's --backend do.
 */
export function splitBackend(name: string, fallback: Isolation): { engine: string; isolation: Isolation } {
  const colon = name.lastIndexOf(":");
  if (colon < 0) return { engine: name, isolation: fallback };
  const isolation = name.slice(colon + 1);
  if (!(ISOLATIONS as readonly string[]).includes(isolation))
    throw new WardenError(
      "USAGE",
      `backend "${name}" names an unknown isolation "${isolation}"; use ${ISOLATIONS.map((i) => `"${name.slice(0, colon)}:${i}"`).join(" or ")}`,
    );
  return { engine: name.slice(0, colon), isolation: isolation as Isolation };
}
