#!/usr/bin/env node
// The warden command's entry point: plain JavaScript any Node can parse, so an old Node is told in one line
// what it needs instead of failing on Warden's own code. It then runs the compiled CLI an installed package
// ships (dist/js/), or the TypeScript sources in the repository.
import { existsSync } from "node:fs";

const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  process.stderr.write(`Warden needs Node 24 or later; this is Node ${process.versions.node}\n`);
  process.exit(1);
}
const compiled = new URL("../dist/js/runtime/cli/main.js", import.meta.url);
await import(existsSync(compiled) ? compiled.href : new URL("../runtime/cli/main.ts", import.meta.url).href);
