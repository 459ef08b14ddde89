// What a component asks its host for: its top-level imports, read from the binary, checked against Warden's WIT.
import { KINDS } from "../../capabilities/index.ts";
import { WardenError } from "../../errors.ts";
import { isComponent, malformed, Reader, sections } from "./binary.ts";

/** The WIT package every import must come from (tools-wasm/wit/warden.wit). */
export const WIT_PACKAGE = "warden:tool";
export const WIT_VERSION = "0.1.0";
/** Interfaces a component may import, and the capability type each one is the handle API of (from the registry). */
export const CAPABILITY_INTERFACES: ReadonlyMap<string, string> = new Map(
  KINDS.flatMap((kind) => (kind.wit ? [[kind.wit.interface, kind.name] as const] : [])),
);
/** Interfaces that carry only types; importing them grants nothing. */
const TYPE_INTERFACES = new Set(["types"]);
/** The interface every tool exports. */
export const TOOL_EXPORT = `${WIT_PACKAGE}/tool@${WIT_VERSION}`;

const IMPORT_SECTION = 10;
const KIND_WORDS = ["a core module", "a function", "a value", "a type", "a component", "an interface"];

export interface ComponentImport {
  name: string;
  /** 0 core module, 1 function, 2 value, 3 type, 4 component, 5 instance (an interface). */
  kind: number;
}

/** The component's own imports (nested components' imports are satisfied inside it, not by the host). */
export function componentImports(bytes: Uint8Array): ComponentImport[] {
  if (!isComponent(bytes)) {
    throw new WardenError(
      "LOAD_ERROR",
      "the .wasm file is a core module, not a component; wrap it with `jco new` (wasm-tools component new)",
    );
  }
  const out: ComponentImport[] = [];
  for (const s of sections(bytes)) {
    if (s.id !== IMPORT_SECTION) continue;
    const r = new Reader(s.body);
    for (let n = r.u(); n > 0; n--) {
      // 0x00 and 0x01 are plain names; 0x02 adds options (implements, a version suffix). Anything else is refused.
      const form = r.byte();
      if (form > 0x02) throw malformed(`unknown import name form ${form}`);
      const name = r.name();
      if (form === 0x02) skipNameOptions(r);
      out.push({ name, kind: skipExternDesc(r) });
    }
  }
  return out;
}

function skipNameOptions(r: Reader): void {
  for (let n = r.u(); n > 0; n--) {
    if (r.byte() > 0x01) throw malformed("unknown import name option");
    r.name();
  }
}

function skipExternDesc(r: Reader): number {
  const kind = r.byte();
  switch (kind) {
    case 0x00:
      if (r.byte() !== 0x11) throw malformed("bad core module import");
      r.u();
      break;
    case 0x01:
    case 0x04:
    case 0x05:
      r.u();
      break;
    case 0x02:
      if (r.byte() === 0x00) r.u();
      else r.s();
      break;
    case 0x03:
      if (r.byte() === 0x00) r.u();
      break;
    default:
      throw malformed(`unknown import kind ${kind}`);
  }
  return kind;
}

/**
 * The capability types a component's imports need. Refuses, before anything runs, any import that is not
 * one of Warden's interfaces: WASI (filesystem, sockets, environment, clocks) and anything else the host
 * would have to supply, since whatever supplied it would reach the host without passing the kernel.
 */
export function capabilityTypesOf(imports: ComponentImport[]): Set<string> {
  const types = new Set<string>();
  for (const { name, kind } of imports) {
    const match = /^([a-z0-9-]+:[a-z0-9-]+)\/([a-z0-9-]+)@(.+)$/.exec(name);
    const iface = match?.[2] ?? "";
    const known =
      match?.[1] === WIT_PACKAGE && (CAPABILITY_INTERFACES.has(iface) || TYPE_INTERFACES.has(iface));
    if (!known || kind !== 5) {
      throw new WardenError(
        "LOAD_ERROR",
        `the component imports ${name} (${KIND_WORDS[kind] ?? "something"}), which Warden does not provide; a component may import only ${[...CAPABILITY_INTERFACES.keys()].map((i) => `${WIT_PACKAGE}/${i}@${WIT_VERSION}`).join(", ")} (build it with every WASI feature disabled)`,
      );
    }
    if (match?.[3] !== WIT_VERSION) {
      throw new WardenError(
        "LOAD_ERROR",
        `the component imports ${name}, but this Warden provides ${WIT_PACKAGE}/${iface}@${WIT_VERSION}; rebuild it against tools-wasm/wit`,
      );
    }
    const type = CAPABILITY_INTERFACES.get(iface);
    if (type) types.add(type);
  }
  return types;
}

/**
 * Each imported capability interface must be backed by a capability of its type that the tool declares (and
 * so must be granted: runtime/descriptor.ts refuses to load a tool whose declared capabilities are not all granted).
 */
export function checkDeclared(types: Set<string>, declared: unknown): void {
  const caps =
    declared !== null && typeof declared === "object"
      ? Object.values((declared as { capabilities?: unknown }).capabilities ?? {})
      : [];
  const declaredTypes = new Set(
    caps.map((c) => (c !== null && typeof c === "object" ? (c as { type?: unknown }).type : undefined)),
  );
  for (const type of types) {
    if (!declaredTypes.has(type)) {
      throw new WardenError(
        "LOAD_ERROR",
        `the component imports ${WIT_PACKAGE}/${type}@${WIT_VERSION} but its describe() declares no capability of type "${type}"; declare one (e.g. "capabilities": { "NAME": { "type": "${type}" } }) so it can be granted with --grant NAME=${type}:…, or build the component without that import`,
      );
    }
  }
}
