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

type Stored = Record<string, Record<string, Approval>>;

function readStore(file: string, what: string): Stored {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Stored;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new WardenError("USAGE", `cannot read the MCP ${what} in ${file}: fix or remove the file`);
    }
    return {};
  }
}

function writeStore(file: string, stored: Stored): void {
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.tmp`;
  writeFileSync(temp, `${JSON.stringify(stored, null, 2)}\n`, { flush: true });
  renameSync(temp, file);
}

function entryOf(definition: McpTool): Approval {
  return { digest: definitionDigest(definition), definition, approvedAt: new Date().toISOString() };
}

/** Approvals in one JSON file per state directory, replaced atomically so a crash never leaves half a file. */
export class ApprovalStore {
  private readonly file: string;
  private approvals: Stored;

  constructor(file: string) {
    this.file = file;
    this.approvals = readStore(file, "approvals");
  }

  get(server: string, tool: string): Approval | undefined {
    return Object.hasOwn(this.approvals, server) && Object.hasOwn(this.approvals[server]!, tool)
      ? this.approvals[server]![tool]
      : undefined;
  }

  approve(server: string, definition: McpTool): Approval {
    const approval = entryOf(definition);
    this.approvals[server] = { ...this.approvals[server], [definition.name]: approval };
    writeStore(this.file, this.approvals);
    return approval;
  }
}

/**
 * What `mcp review` last showed of each tool (its digest and definition), so `mcp approve` approves exactly
 * that and refuses a definition the server changed after it was reviewed.
 */
export class ReviewStore {
  private readonly file: string;
  private reviews: Stored;

  constructor(file: string) {
    this.file = file;
    this.reviews = readStore(file, "reviews");
  }

  get(server: string, tool: string): Approval | undefined {
    return Object.hasOwn(this.reviews, server) && Object.hasOwn(this.reviews[server]!, tool)
      ? this.reviews[server]![tool]
      : undefined;
  }

  /** Replaces what was reviewed of one server with the definitions just shown. */
  record(server: string, definitions: readonly McpTool[]): void {
    this.reviews[server] = Object.fromEntries(definitions.map((d) => [d.name, entryOf(d)]));
    writeStore(this.file, this.reviews);
  }
}
