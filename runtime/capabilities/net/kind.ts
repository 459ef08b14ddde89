// The net kind, whole: its host side, its policy entry (`net: { origins, methods }`), its WIT name and its words.
import { z } from "zod";
import { rightsOf, strict } from "../../policy/fields.ts";
import { defineKind } from "../kind.ts";
import type { LookupFn } from "./fetch.ts";
import { createNetKind } from "./index.ts";
import { DEFAULT_MAX_REDIRECTS, DEFAULT_MAX_RESPONSE_BYTES, METHODS, parseOrigin } from "./spec.ts";

const entry = strict(
  {
    origins: z
      .array(z.string().min(1))
      .min(1, "name at least one origin, e.g. https://api.example.com")
      .describe("Exact origins, scheme://host[:port]: no wildcards, paths, ranges or credentials."),
    methods: rightsOf("net", METHODS, "methods").describe("HTTP methods allowed."),
  },
  "a net grant",
);

export const net = defineKind({
  name: "net",
  rights: METHODS,
  words: "reach the network",
  exampleScope: ":ORIGIN",
  wit: { interface: "net", resource: "Client" },
  policy: {
    schema: entry,
    grant(entry, _env, problem) {
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
      if (!valid) return undefined;
      return {
        rights: METHODS.filter((method) => entry.methods.includes(method)),
        scope: {
          origins: [...origins],
          maxResponseBytes: DEFAULT_MAX_RESPONSE_BYTES,
          maxRedirects: DEFAULT_MAX_REDIRECTS,
        },
      };
    },
  },
  create: (services: { lookup?: LookupFn | undefined }) => createNetKind({ lookup: services.lookup }),
});
