// Approved definitions of external MCP tools: each tool's whole definition, hashed and kept with its digest.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Tool as McpTool } from "@modelcontextprotocol/sdk/types.js";
import { canonicalJson } from "../audit/canonical.ts";
import { WardenError } from "../errors.ts";

export interface Approval {
  digest: string;
  definition: McpTool;
  approvedAt: string;
}

/**
 * The digest covers everything a server says about a tool (name, title, description, every parameter's
 * description and default, input and output schemas, annotations), because poisoning can hide in any of it.
 */
export function definitionDigest(definition: McpTool): string {
  return `sha256:${createHash("sha256").update(canonicalJson(definition)).digest("hex")}`;
}

/** What changed between two definitions, one line per JSON path, so a reviewer sees exactly what to re-approve. */
export function diffDefinitions(before: unknown, after: unknown, path = ""): string[] {
  if (canonicalJson(before) === canonicalJson(after)) return [];
  const isObject = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === "object" && !Array.isArray(v);
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => diffDefinitions(before[key], after[key], path ? `${path}.${key}` : key));
  }
  const show = (v: unknown) => (v === undefined ? "(absent)" : JSON.stringify(v));
  return [`${path || "(definition)"}: ${show(before)} -> ${show(after)}`];
}

/** Approvals in one JSON file per state directory, replaced atomically so a crash never leaves half a file. */
export class ApprovalStore {
  private readonly file: string;
  private approvals: Record<string, Record<string, Approval>>;

  constructor(file: string) {
    this.file = file;
    try {
      this.approvals = JSON.parse(readFileSync(file, "utf8")) as Record<string, Record<string, Approval>>;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
        throw new WardenError("USAGE", `cannot read the MCP approvals in ${file}: fix or remove the file`);
      }
      this.approvals = {};
    }
  }

  get(server: string, tool: string): Approval | undefined {
    return this.approvals[server]?.[tool];
  }

  approve(server: string, definition: McpTool): Approval {
    const approval = {
      digest: definitionDigest(definition),
      definition,
      approvedAt: new Date().toISOString(),
    };
    this.approvals[server] = { ...this.approvals[server], [definition.name]: approval };
    mkdirSync(dirname(this.file), { recursive: true });
    const temp = `${this.file}.tmp`;
    writeFileSync(temp, `${JSON.stringify(this.approvals, null, 2)}\n`, { flush: true });
    renameSync(temp, this.file);
    return approval;
  }
}
