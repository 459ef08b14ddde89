// `policy pin`: loads each tool to read its definition and writes its digest into the policy, keeping comments.
import { readFileSync, writeFileSync } from "node:fs";
import { extname, resolve } from "node:path";
import { isMap, isNode, isScalar, type Pair, parseDocument, type YAMLMap } from "yaml";
import { WardenError } from "../errors.ts";
import type { Runtime } from "../runtime.ts";
import { loadPolicy } from "./compile.ts";
import { pinOf, type ToolPin } from "./digest.ts";
import { policyEnv } from "./run.ts";
import { PIN_PARTS } from "./schema.ts";

export interface PinResult {
  tool: string;
  digest: string;
  /** False when the policy already held this digest. */
  changed: boolean;
}

interface Edit {
  at: number;
  end: number;
  text: string;
}

function pairOf(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((p) => isScalar(p.key) && p.key.value === key) as Pair | undefined;
}

function partsText(pin: ToolPin, json: boolean): string {
  const q = (s: string) => (json ? JSON.stringify(s) : s);
  return `{ ${PIN_PARTS.map((p) => `${q(p)}: ${q(pin.parts[p])}`).join(", ")} }`;
}

/**
 * The text edits that set digest and parts in one tool's map, leaving every other byte as it was: values
 * replaced in place, or new lines after `source` in its indentation (a flow map gets `, key: value`).
 */
function pinEdits(text: string, entry: YAMLMap, pin: ToolPin, json: boolean): Edit[] {
  const source = pairOf(entry, "source");
  const sourceValue = source?.value;
  if (!source || !isScalar(source.key) || !isScalar(sourceValue) || !source.key.range || !sourceValue.range) {
    throw new WardenError("INTERNAL", "a tool entry without a source scalar after a valid load");
  }
  const q = (s: string) => (json ? JSON.stringify(s) : s);
  const values: [string, string][] = [
    ["digest", q(pin.digest)],
    ["parts", partsText(pin, json)],
  ];
  const edits: Edit[] = [];
  const missing: [string, string][] = [];
  for (const [key, value] of values) {
    const node = pairOf(entry, key)?.value;
    if (isNode(node) && node.range) {
      edits.push({ at: node.range[0], end: node.range[1], text: value });
    } else missing.push([key, value]);
  }
  if (missing.length === 0) return edits;
  const after = sourceValue.range[1];
  if (entry.flow) {
    edits.push({ at: after, end: after, text: missing.map(([k, v]) => `, ${q(k)}: ${v}`).join("") });
    return edits;
  }
  const lineStart = text.lastIndexOf("\n", source.key.range[0] - 1) + 1;
  const indent = text.slice(lineStart, source.key.range[0]);
  const lineEnd = text.indexOf("\n", after);
  const at = lineEnd < 0 ? text.length : lineEnd;
  edits.push({ at, end: at, text: missing.map(([k, v]) => `\n${indent}${k}: ${v}`).join("") });
  return edits;
}

/** Pins every tool (or only `only`), rewriting the policy file in place; everything else in it is kept as written. */
export async function pinPolicy(
  runtime: Runtime,
  file: string,
  only?: string,
  cwd = process.cwd(),
): Promise<PinResult[]> {
  const full = resolve(cwd, file);
  const policy = loadPolicy(file, policyEnv(runtime), cwd);
  if (only !== undefined && !policy.tools.has(only)) {
    throw new WardenError(
      "USAGE",
      `${file} names no tool "${only}"; it names: ${[...policy.tools.keys()].join(", ")}`,
    );
  }
  const text = readFileSync(full, "utf8");
  const doc = parseDocument(text);
  const json = extname(full) === ".json";
  const edits: Edit[] = [];
  const results: PinResult[] = [];
  for (const tool of policy.tools.values()) {
    if (only !== undefined && tool.name !== only) continue;
    const { definition, code } = await runtime.inspectTool(tool.source, { backend: tool.backend });
    if (definition.name !== tool.name) {
      throw new WardenError(
        "POLICY_INVALID",
        `${file} names a tool "${tool.name}", but ${tool.sourceShown} defines itself as "${definition.name}"; rename the policy entry to "${definition.name}"`,
      );
    }
    const pin = pinOf(definition, code);
    const entry = doc.getIn(["tools", tool.name], true);
    if (!isMap(entry))
      throw new WardenError("INTERNAL", `tools.${tool.name} is not a map after a valid load`);
    edits.push(...pinEdits(text, entry, pin, json));
    results.push({ tool: tool.name, digest: pin.digest, changed: tool.digest !== pin.digest });
  }
  let out = text;
  for (const edit of edits.sort((a, b) => b.at - a.at))
    out = out.slice(0, edit.at) + edit.text + out.slice(edit.end);
  writeFileSync(full, out);
  return results;
}
