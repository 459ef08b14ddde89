// The net kind's definition: its host side, its policy entry (`net: { origins, methods, headers }`) and its words.
import { z } from "zod";
import { rightsOf, strict } from "../../policy/fields.ts";
import { type SecretStore, secretRefs } from "../../secrets.ts";
import { defineKind, type ReportProblem } from "../kind.ts";
import { headerProblem } from "./credentials.ts";
import type { LookupFn } from "./fetch.ts";
import { createNetKind } from "./index.ts";
import { DEFAULT_MAX_REDIRECTS, DEFAULT_MAX_RESPONSE_BYTES, METHODS, parseOrigin } from "./spec.ts";

/**
 * The headers an entry binds, each checked where it is written: its syntax, and that every `${secret:NAME}`
 * is one the policy's `secrets:` defines. Undefined after reporting a problem.
 */
function policyHeaders(
  headers: Readonly<Record<string, string>>,
  defined: readonly string[] | undefined,
  problem: ReportProblem,
): Record<string, string> | undefined {
  const bound: Record<string, string> = {};
  const taken = new Set<string>();
  let valid = true;
  for (const [name, template] of Object.entries(headers)) {
    const wrong = headerProblem(name, template, taken);
    if (wrong !== undefined) {
      problem(["headers", name], wrong);
      valid = false;
      continue;
    }
    for (const ref of secretRefs(template)) {
      if (defined === undefined || defined.includes(ref)) continue;
      problem(
        ["headers", name],
        `names the secret "${ref}", which secrets: does not define${defined.length ? ` (it defines ${defined.join(", ")})` : ""}`,
      );
      valid = false;
    }
    taken.add(name.toLowerCase());
    bound[name] = template;
  }
  return valid ? bound : undefined;
}

const entry = strict(
  {
    origins: z
      .array(z.string().min(1))
      .min(1, "name at least one origin, e.g. https://api.example.com")
      .describe("Exact origins, scheme://host[:port]: no wildcards, paths, ranges or credentials."),
    methods: rightsOf("net", METHODS, "methods").describe("HTTP methods allowed."),
    headers: z
      .record(z.string().min(1), z.string())
      .optional()
      .describe(
        `Headers the kernel adds to every request, e.g. Authorization: "Bearer \${secret:github}"; \${secret:NAME} names an entry of secrets. The tool never sees the value and may not set these headers itself.`,
      ),
  },
  "a net grant",
);

export const net = defineKind({
  name: "net",
  rights: METHODS,
  words: "reach the network",
  exampleScope: ":ORIGIN",
  policy: {
    schema: entry,
    rightsField: "methods",
    grant(entry, env, problem) {
      // Each origin on its own, so a problem points at the origin that has it.
      const origins = new Set<string>();
      let valid = true;
      for (const [i, raw] of entry.origins.entries()) {
        if (raw.includes(",")) {
          problem(["origins", i], `"${raw}" is not one origin; list each on its own`);
          valid = false;
          continue;
        }
        const parsed = parseOrigin(raw.trim());
        if ("error" in parsed) {
          const words = parsed.error.includes("scheme://")
            ? parsed.error
            : `${parsed.error}; write each origin as scheme://host[:port]`;
          problem(["origins", i], words);
          valid = false;
        } else origins.add(parsed.origin);
      }
      const headers = policyHeaders(entry.headers ?? {}, env.secrets, problem);
      if (!valid || headers === undefined) return undefined;
      return {
        rights: METHODS.filter((method) => entry.methods.includes(method)),
        scope: {
          origins: [...origins],
          maxResponseBytes: DEFAULT_MAX_RESPONSE_BYTES,
          maxRedirects: DEFAULT_MAX_REDIRECTS,
          ...(Object.keys(headers).length > 0 ? { headers } : {}),
        },
      };
    },
  },
  // The secret store goes to the net kind alone: it fills in bound headers, kernel-side, per request.
  create: (services: { lookup?: LookupFn | undefined; secrets?: SecretStore | undefined }) =>
    createNetKind({ lookup: services.lookup, secrets: services.secrets }),
});
