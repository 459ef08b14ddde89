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
// Node strips types only outside node_modules: an installed package runs its compiled JavaScript, and a
// checkout runs its sources (so a dist/js/ left by an earlier `npm pack` is never run stale).
const installed = import.meta.url.includes("/node_modules/");
const compiled = new URL("../dist/js/runtime/cli/main.js", import.meta.url);
const source = new URL("../runtime/cli/main.ts", import.meta.url);
await import((installed || !existsSync(source) ? compiled : source).href);
