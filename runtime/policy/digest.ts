// The pin of a tool: a sha256 over its whole definition and its code bytes, and short hashes of each part.
import { createHash } from "node:crypto";
import { canonicalJson } from "../audit/canonical.ts";
import type { ToolDescriptor } from "../descriptor.ts";
import { WardenError } from "../errors.ts";
import { PIN_PARTS, type PinPart } from "./schema.ts";

export interface ToolPin {
  digest: string;
  /** 16 hex digits per part: enough to say which part changed; the digest is what is enforced. */
  parts: Record<PinPart, string>;
}

function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

export function pinOf(definition: ToolDescriptor, code: Uint8Array): ToolPin {
  const full: Record<PinPart, string> = {
    name: sha256(canonicalJson(definition.name)),
    description: sha256(canonicalJson(definition.description)),
    inputSchema: sha256(canonicalJson(definition.inputSchema)),
    outputSchema: sha256(canonicalJson(definition.outputSchema)),
    capabilities: sha256(canonicalJson(definition.capabilities)),
    code: sha256(code),
  };
  const parts = Object.fromEntries(PIN_PARTS.map((p) => [p, full[p].slice(0, 16)])) as Record<
    PinPart,
    string
  >;
  return { digest: `sha256:${sha256(canonicalJson(full))}`, parts };
}

const PART_WORDS: Record<PinPart, string> = {
  name: "name",
  description: "description",
  inputSchema: "input schema",
  outputSchema: "output schema",
  capabilities: "declared capabilities",
  code: "code",
};

/** Refuses a tool whose pin differs from the policy's, saying which parts changed when the policy kept them. */
export function checkPin(
  tool: string,
  policyFile: string,
  pinned: { digest: string; parts: Record<PinPart, string> | undefined },
  actual: ToolPin,
): void {
  if (pinned.digest === actual.digest) return;
  const changed = pinned.parts ? PIN_PARTS.filter((p) => pinned.parts![p] !== actual.parts[p]) : [];
  const what =
    changed.length > 0
      ? `its ${changed.map((p) => PART_WORDS[p]).join(", ")} changed`
      : "its definition or code changed";
  throw new WardenError(
    "TOOL_CHANGED",
    `tool "${tool}" is not the tool ${policyFile} pinned: ${what} (pinned ${pinned.digest.slice(0, 19)}…, now ${actual.digest.slice(0, 19)}…); review the change, then run warden policy pin ${policyFile}`,
  );
}
