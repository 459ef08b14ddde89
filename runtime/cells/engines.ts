// Which sandbox engines a cell can host, found by name: an engine `NAME` is the Backend named NAME exported
// by runtime/isolates/NAME/index.ts, so a new backend that follows the v8 layout runs in cells unchanged.
import { existsSync } from "node:fs";
import { WardenError } from "../errors.ts";
import type { Backend } from "../isolates/types.ts";
import { ownModule } from "../own-files.ts";
import { ENGINE_NAME } from "./protocol.ts";

function engineModule(name: string): URL | undefined {
  if (!ENGINE_NAME.test(name)) return undefined;
  const url = ownModule(import.meta.url, `../isolates/${name}/index.ts`);
  return existsSync(url) ? url : undefined;
}

/** Whether a cell can host the engine `name` (checked by the kernel before it places a sandbox). */
export function cellCanHost(name: string): boolean {
  return engineModule(name) !== undefined;
}

const loaded = new Map<string, Promise<Backend>>();

/** Imports an engine inside a cell, once. */
export function loadEngine(name: string): Promise<Backend> {
  let engine = loaded.get(name);
  if (!engine) {
    engine = importEngine(name);
    loaded.set(name, engine);
  }
  return engine;
}

async function importEngine(name: string): Promise<Backend> {
  const url = engineModule(name);
  if (!url) throw new WardenError("USAGE", `no sandbox engine named "${name}" can run in a cell`);
  const exports = (await import(url.href)) as Record<string, unknown>;
  for (const value of Object.values(exports)) {
    if (isBackend(value) && value.name === name) return value;
  }
  throw new WardenError("INTERNAL", `runtime/isolates/${name}/index.ts exports no backend named "${name}"`);
}

function isBackend(value: unknown): value is Backend {
  return (
    typeof value === "object" &&
    value !== null &&
    "name" in value &&
    "create" in value &&
    typeof value.create === "function"
  );
}
