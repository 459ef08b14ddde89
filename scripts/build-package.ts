// Compiles the host code (runtime/, sdk/ without sdk/guest/) to dist/js/ for the packed package: Node does
// not strip types under node_modules, so an installed Warden runs JavaScript. The repository runs the sources.
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
rmSync(join(root, "dist", "js"), { recursive: true, force: true });
const tsc = join(root, "node_modules", ".bin", "tsc");
const result = spawnSync(tsc, ["-p", join(root, "tsconfig.package.json")], { stdio: "inherit" });
if (result.status !== 0) process.exit(result.status ?? 1);
console.error("built dist/js");
