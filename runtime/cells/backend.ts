// A backend that runs another backend's sandboxes in cells: same interface, messages over a pipe instead of
// calls in the kernel's process. The kernel and Tool do not change; a dead cell is a dead sandbox.
import { WardenError } from "../errors.ts";
import type {
  Backend,
  HostCall,
  Limits,
  RawDescriptor,
  RunOutcome,
  Sandbox,
  SandboxModule,
} from "../isolates/types.ts";
import type { CellPool } from "./pool.ts";
import type { Cell } from "./process.ts";
import { runValueSchema } from "./schemas.ts";

let unplaced = 0;

class CellSandbox implements Sandbox {
  private readonly cell: Cell;
  private readonly sb: number;
  private readonly limits: Limits;
  private disposed = false;

  constructor(cell: Cell, sb: number, limits: Limits) {
    this.cell = cell;
    this.sb = sb;
    this.limits = limits;
  }

  get dead(): boolean {
    return this.disposed || this.cell.isDead(this.sb);
  }

  load(module: SandboxModule): Promise<RawDescriptor> {
    return this.cell.load(this.sb, module.source, module.filename);
  }

  async run(inputJson: string, handlesJson: string, outputSchemaJson: string): Promise<RunOutcome> {
    const value = await this.cell.run(this.sb, inputJson, handlesJson, outputSchemaJson);
    const parsed = runValueSchema.safeParse(value);
    // The output limit is the kernel's to keep: a cell that breaks it is not believed.
    if (!parsed.success || parsed.data.outputJson.length > this.limits.outputKb * 1024) {
      this.cell.condemn("a malformed result");
      throw new WardenError("SANDBOX_CRASHED", "the sandbox's cell returned a malformed result");
    }
    return parsed.data;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.cell.close(this.sb);
  }
}

/**
 * Runs `engine` (a backend folder under runtime/isolates/) in cells from `pool`. A sandbox created without a
 * placement gets a cell of its own: sharing a process is something the caller must ask for.
 */
export function cellBackend(pool: CellPool, engine: string): Backend {
  return {
    name: engine,
    async create({
      limits,
      hostCall,
      placement,
    }: {
      limits: Limits;
      hostCall: HostCall;
      placement?: string;
    }) {
      const key = placement ?? `unplaced:${++unplaced}`;
      let opened: { cell: Cell; sb: number };
      try {
        opened = await pool.open(key, engine, limits, hostCall);
      } catch (error) {
        // A cell that died before it answered (a spare killed from outside, say): one fresh try.
        if (!(error instanceof WardenError) || error.code !== "SANDBOX_CRASHED") throw error;
        opened = await pool.open(key, engine, limits, hostCall);
      }
      return new CellSandbox(opened.cell, opened.sb, limits);
    },
  };
}
