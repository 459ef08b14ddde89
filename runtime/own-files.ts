// Where Warden's own files are, whether it runs from its TypeScript sources (the repository) or from the
// compiled JavaScript an installed package ships (dist/js/): module siblings and the package root.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * A module next to `base` (an `import.meta.url`), named by its source path ("./cell-main.ts"): the `.js`
 * file when `base` itself is compiled JavaScript. Paths built at run time are not rewritten by the compiler.
 */
export function ownModule(base: string, relative: string): URL {
  const compiled = base.endsWith(".js");
  return new URL(compiled ? relative.replace(/\.ts$/, ".js") : relative, base);
}

/** The directory holding Warden's package.json: the repository, or node_modules/warden when installed. */
export const PACKAGE_ROOT: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("Warden's package.json was not found above runtime/own-files");
    dir = up;
  }
  return dir;
})();
