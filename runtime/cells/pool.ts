// Cells by placement: sandboxes whose placement keys differ never share a process. Keeps a warm cell per key
// for reuse and a blank spare, started ahead, so neither a warm call nor a new tool waits for a process start.
import { WardenError } from "../errors.ts";
import type { HostCall, Limits } from "../isolates/types.ts";
import type { CellLaunch } from "./hardening.ts";
import { takePrestarted } from "./prestart.ts";
import { Cell, type CellState } from "./process.ts";

export interface PoolOptions {
  /**
   * Blank cells kept started ahead, with an engine warmed (default 1), once the pool has had to start a second
   * cell: a runtime that only ever needs one cell never pays for a spare. A blank cell has run no tool code.
   */
  spares?: number;
  /** The engine spares warm until the pool has opened a sandbox (then: the engine it opened last). */
  warmEngine?: string;
  /** Sandboxes one cell may hold before the key gets another cell (default 16). */
  maxSandboxesPerCell?: number;
  /** How long a cell with no sandboxes is kept for its key before it is stopped, in ms (default 30000). */
  idleMs?: number;
}

export interface CellInfo {
  id: number;
  pid: number | undefined;
  placement: string | undefined;
  state: CellState;
  sandboxes: number;
}

export class CellPool {
  private readonly launch: () => CellLaunch;
  private readonly spares: number;
  private warmEngine: string;
  private readonly maxPerCell: number;
  private readonly idleMs: number;
  private readonly cells = new Set<Cell>();
  private readonly blank: Cell[] = [];
  private readonly idleTimers = new Map<Cell, NodeJS.Timeout>();
  private started = 0;
  private closed = false;

  constructor(launch: () => CellLaunch, options: PoolOptions = {}) {
    this.launch = launch;
    this.spares = options.spares ?? 1;
    this.warmEngine = options.warmEngine ?? "v8";
    this.maxPerCell = options.maxSandboxesPerCell ?? 16;
    this.idleMs = options.idleMs ?? 30_000;
  }

  /** Opens a sandbox in a cell of `placement`, reusing one, taking a spare, or starting one. */
  async open(
    placement: string,
    engine: string,
    limits: Limits,
    hostCall: HostCall,
  ): Promise<{ cell: Cell; sb: number }> {
    this.warmEngine = engine;
    const cell = this.cellFor(placement);
    return { cell, sb: await cell.open(engine, limits, hostCall) };
  }

  list(): CellInfo[] {
    return [...this.cells].map((c) => ({
      id: c.id,
      pid: c.pid,
      placement: c.placement,
      state: c.status,
      sandboxes: c.sandboxes,
    }));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.idleTimers.values()) clearTimeout(timer);
    this.idleTimers.clear();
    const cells = [...this.cells];
    this.cells.clear();
    this.blank.length = 0;
    await Promise.all(cells.map((c) => c.stop()));
  }

  private cellFor(placement: string): Cell {
    if (this.closed) throw new WardenError("USAGE", "the runtime is closed: create a new one to load tools");
    for (const cell of this.cells) {
      if (cell.placement === placement && cell.status === "live" && cell.sandboxes < this.maxPerCell) {
        this.keep(cell);
        return cell;
      }
    }
    let cell = this.blank.shift();
    while (cell && cell.status !== "live") cell = this.blank.shift();
    cell ??= this.start();
    cell.placement = placement;
    this.keep(cell);
    this.refill();
    return cell;
  }

  private start(warm?: string): Cell {
    const launch = this.launch();
    const cell = new Cell(launch, warm, takePrestarted(launch));
    this.started++;
    cell.onIdle = (c) => this.idle(c);
    this.cells.add(cell);
    return cell;
  }

  private refill(): void {
    if (this.started < 2) return;
    while (!this.closed && this.blank.length < this.spares) this.blank.push(this.start(this.warmEngine));
  }

  private keep(cell: Cell): void {
    const timer = this.idleTimers.get(cell);
    if (timer) clearTimeout(timer);
    this.idleTimers.delete(cell);
  }

  /** A cell with no sandboxes: a dead or draining one is let go; a live one waits a while for its key. */
  private idle(cell: Cell): void {
    if (cell.status === "dead" || cell.status === "draining") {
      this.cells.delete(cell);
      this.keep(cell);
      const spare = this.blank.indexOf(cell);
      if (spare >= 0) this.blank.splice(spare, 1);
      if (cell.status === "draining") void cell.stop();
      // Its sandboxes' tools will want a fresh cell on their next call.
      if (cell.placement !== undefined && spare < 0) this.refill();
      return;
    }
    if (cell.placement === undefined || this.idleTimers.has(cell)) return;
    const timer = setTimeout(() => {
      this.idleTimers.delete(cell);
      if (cell.sandboxes === 0) {
        this.cells.delete(cell);
        void cell.stop();
      }
    }, this.idleMs);
    timer.unref();
    this.idleTimers.set(cell, timer);
  }
}
