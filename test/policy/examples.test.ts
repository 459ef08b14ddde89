// CI for the example policies: each policies/examples/<name>/policy.yaml is valid and passes its own cases.yaml.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { formatResult, runCases } from "../../runtime/policy/cases.ts";
import { loadPolicy } from "../../runtime/policy/compile.ts";
import { testEnv } from "./support/env.ts";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const EXAMPLES = "policies/examples";
const names = readdirSync(join(REPO, EXAMPLES), { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name);

test("there are examples for a docs reader, a web API client and a scratch space", () => {
  expect(names.sort()).toEqual(expect.arrayContaining(["docs", "scratch", "web"]));
});

describe.each(names)("policies/examples/%s", (name) => {
  test("every case in cases.yaml is decided as expected (what `warden policy test` runs)", () => {
    const policy = loadPolicy(`${EXAMPLES}/${name}/policy.yaml`, testEnv(), REPO);
    const results = runCases(policy, `${EXAMPLES}/${name}/cases.yaml`, REPO);
    expect(results.length).toBeGreaterThan(5);
    expect(results.filter((r) => !r.pass).map(formatResult)).toEqual([]);
    // A table that only allows, or only denies, tests half a policy.
    expect(new Set(results.map((r) => r.case.expect))).toEqual(new Set(["allow", "deny"]));
  });
});
