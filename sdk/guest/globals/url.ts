// URL and URLSearchParams: the WHATWG URL Standard's own reference implementation (the whatwg-url package),
// evaluated the first time a sandbox touches either. Runs inside sandboxes.
//
// The prelude carries the implementation as text (url-impl.ts, built by scripts/build-prelude.ts) and
// compiles it on first use: most tools never parse a URL, and QuickJS keeps compiled code (with each
// function's source) in every sandbox's memory image, where this would add about 800 KiB to every sandbox.
// Domain names go through idna.ts (see there for what is approximated and why).

interface UrlModule {
  URL: unknown;
  URLSearchParams: unknown;
}

/** The URL bundle as script text: `var __wardenUrl = …`. Defined by the build. */
declare const __WARDEN_URL_SOURCE__: string;

// Captured before any tool code runs. The text sits at the bundle's top level, not inside a function:
// QuickJS keeps a copy of each function's source, so text inside one would be held twice more.
const FunctionCtor = Function;
const SOURCE = `${__WARDEN_URL_SOURCE__}\nreturn __wardenUrl;`;

let loaded: UrlModule | undefined;

function urlModule(): UrlModule {
  loaded ??= new FunctionCtor(SOURCE)() as UrlModule;
  return loaded;
}

export function installUrl(scope: Record<string, unknown>): void {
  for (const name of ["URL", "URLSearchParams"] as const) {
    const define = (value: unknown) =>
      Object.defineProperty(scope, name, { value, writable: true, configurable: true });
    // An accessor until first use, then a plain global like any other.
    Object.defineProperty(scope, name, {
      get() {
        const value = urlModule()[name];
        define(value);
        return value;
      },
      set: define,
      configurable: true,
    });
  }
}
