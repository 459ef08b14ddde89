// The model kind's policy entry (the structured form and a spec's text) and where a grant's key comes from:
// a kernel secret the grant names, or the provider's variable in the kernel's environment.
import { realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { AuditLog, MemoryAuditSink } from "../../../runtime/audit.ts";
import { createModelKind, type ModelKindOptions } from "../../../runtime/capabilities/model/index.ts";
import type { CapabilityKind } from "../../../runtime/capabilities/types.ts";
import { WardenError } from "../../../runtime/errors.ts";
import { Kernel } from "../../../runtime/kernel.ts";
import { loadPolicy } from "../../../runtime/policy/compile.ts";
import { testEnv } from "../../policy/support/env.ts";
import { failure } from "../../support/failure.ts";
import type { FakeServer } from "../../support/fake-http.ts";
import {
  OPENAI_TEST_KEY,
  openaiBaseURL,
  openaiBody,
  openaiError,
  startFakeOpenAI,
} from "../../support/fake-openai.ts";
import { runningSandbox } from "../../support/kernel.ts";
import { tempDir } from "../../support/tools.ts";

let openai: FakeServer;
let dir = "";
beforeAll(async () => {
  openai = await startFakeOpenAI();
  dir = realpathSync(tempDir("warden-model-policy-"));
  writeFileSync(join(dir, "tool.js"), "export default 1;\n");
  writeFileSync(join(dir, "s.yaml"), "tester:\n  - text: one\n");
});
afterAll(async () => openai.close());

function policy(grants: string): string {
  const file = join(dir, "policy.yaml");
  // secrets: comes last, so the grants keep their line numbers in the problems below.
  const secrets = "secrets:\n  openai: { env: OPENAI_API_KEY }\n  op: { env: OPENAI_API_KEY }\n";
  writeFileSync(
    file,
    `version: 1\ntools:\n  reader:\n    source: ./tool.js\n    grants:\n${grants.endsWith("\n") ? grants : `${grants}\n`}${secrets}`,
  );
  return file;
}

function specs(grants: string): Record<string, string> {
  const tool = loadPolicy(policy(grants), testEnv(), dir).tools.get("reader")!;
  return Object.fromEntries(tool.grants.map((g) => [g.handle, g.kind.formatSpec(g.grant)]));
}

function problems(grants: string): string[] {
  try {
    loadPolicy(policy(grants), testEnv(), dir);
  } catch (error) {
    if (error instanceof WardenError && error.code === "POLICY_INVALID")
      return error.message
        .split("\n")
        .slice(1)
        .map((line) => line.replace(`${dir}/`, ""));
    throw error;
  }
  throw new Error("the policy loaded");
}

/** The fake server takes only this key: here, the secret's value. */
const SECRET_KEY = OPENAI_TEST_KEY;

/** A kernel with one model kind over the fake OpenAI server; `secrets` stands in for the kernel's store. */
function gate(options: ModelKindOptions = {}) {
  const sink = new MemoryAuditSink();
  const kind = createModelKind({
    env: { OPENAI_BASE_URL: openaiBaseURL(openai) },
    ...options,
  }) as CapabilityKind;
  const kernel = new Kernel({ kinds: [kind], audit: new AuditLog([sink]) });
  const sb = runningSandbox(kernel, "tester");
  const give = async (spec: string) => {
    const { kind: k, grant } = kernel.parseSpec(spec, { cwd: dir, owner: "tester" });
    return kernel.grant(sb, "llm", k, grant);
  };
  return { kernel, sb, sink, give };
}

const hello = { messages: [{ role: "user", content: "hi" }] };

describe("the model policy entry", () => {
  test("the structured form: provider, models, base URL, key, limits, params and prices, as one spec", () => {
    expect(
      specs(`      llm:
        model:
          provider: openai
          models: [gpt-4o, gpt-4o-mini]
          baseURL: http://127.0.0.1:8080/v1
          key: { secret: openai }
          limits: { maxTokens: 512, totalTokens: 100000, totalCost: 2.5, requestsPerMinute: 30 }
          params: [temperature]
          prices:
            gpt-4o: { input: 2.5, output: 10 }
            gpt-4o-mini: { input: 0.15, output: 0.6 }
      script: { model: { provider: scripted, script: ./s.yaml, limits: { totalTokens: 50 } } }
      text: { model: "anthropic:claude-x;maxTokens=100" }
`),
    ).toEqual({
      llm: "model:openai:gpt-4o,gpt-4o-mini;maxTokens=512;totalTokens=100000;totalCost=2.5;rpm=30;params=temperature;baseURL=http://127.0.0.1:8080/v1;key=secret:openai;prices=gpt-4o:2.5/10,gpt-4o-mini:0.15/0.6",
      script: `model:scripted:${join(dir, "s.yaml")};totalTokens=50`,
      text: "model:anthropic:claude-x;maxTokens=100",
    });
  });

  test("what the runtime parses from the compiled spec is the grant the policy built", () => {
    const tool = loadPolicy(
      policy(`      llm:
        model: { provider: openai, models: [gpt-x], key: { secret: op }, limits: { totalCost: 1 }, prices: { gpt-x: { input: 1, output: 2 } } }
`),
      testEnv(),
      dir,
    ).tools.get("reader")!;
    const [compiled] = tool.grants;
    const spec = compiled!.kind.formatSpec(compiled!.grant);
    expect(compiled!.kind.parseSpec(spec.slice("model:".length), { cwd: "/elsewhere" })).toEqual(
      compiled!.grant,
    );
  });

  test("each problem at its field, in the policy's words", () => {
    expect(
      problems(`      a: { model: { provider: gemini } }
      b: { model: { provider: openai, models: [gpt-4o], colour: red } }
      c: { model: { provider: scripted, models: [x], key: { secret: op } } }
      d: { model: { provider: openai, models: [gpt-4o], prices: { gpt-5: { input: 1, output: 2 } } } }
      e: { model: { provider: openai } }
      f: { model: { provider: openai, models: [gpt-4o], key: { secret: "1bad" } } }
      g: { model: "openai:" }
      h: { model: { provider: openai, models: [gpt-4o], key: { secret: missing } } }
      i: { model: "openai:gpt-4o;key=secret:missing" }
`),
    ).toEqual([
      "policy.yaml:6:19: tools.reader.grants.a.model: provider: valid providers: openai, anthropic, scripted",
      'policy.yaml:7:57: tools.reader.grants.b.model.colour: unknown field "colour" in a model grant; valid fields: provider, models, script, baseURL, key, limits, params, prices',
      "policy.yaml:8:19: tools.reader.grants.c.model.script: the scripted model needs a script file",
      "policy.yaml:8:49: tools.reader.grants.c.model.models: the scripted model has no model names",
      "policy.yaml:8:69: tools.reader.grants.c.model.key.secret: the scripted model needs no key",
      'policy.yaml:9:65: tools.reader.grants.d.model.prices: "gpt-5" is not one of the grant\'s models: gpt-4o',
      "policy.yaml:10:19: tools.reader.grants.e.model.models: name at least one openai model",
      "policy.yaml:11:72: tools.reader.grants.f.model.key.secret: a secret name is a letter, then letters, digits, '_' or '-'",
      'policy.yaml:12:19: tools.reader.grants.g.model: bad model grant "model:openai:": it names no model; use model:scripted:./script.yaml, model:openai:MODEL or model:anthropic:MODEL, optionally followed by ;maxTokens=N;totalTokens=N;totalCost=DOLLARS;rpm=N;params=temperature,topP;timeoutMs=N;baseURL=URL;key=secret:NAME;prices=MODEL:IN/OUT,...',
      'policy.yaml:13:72: tools.reader.grants.h.model.key.secret: names the secret "missing", which secrets: does not define (it defines openai, op)',
      'policy.yaml:14:19: tools.reader.grants.i.model: names the secret "missing", which secrets: does not define (it defines openai, op)',
    ]);
  });
});

describe("prices a grant sets", () => {
  test("charge its totalCost: a call that could pass it is refused before it is sent", async () => {
    const { kernel, sb, give } = gate({
      env: { OPENAI_API_KEY: "sk-env", OPENAI_BASE_URL: openaiBaseURL(openai) },
    });
    // 1 dollar a token out: 5 tokens out may cost $5, over the $4 ceiling.
    const fd = await give("model:openai:gpt-x;maxTokens=5;totalCost=4;prices=gpt-x:0/1000000");
    const sent = openai.received.length;
    const refused = await failure(kernel.invoke(sb, fd, "complete", hello));
    expect(refused.code).toBe("LIMIT_EXCEEDED");
    expect(refused.message).toContain("totalCost budget ($4)");
    expect(openai.received.length).toBe(sent);
  });

  test("a grant's price is over the runtime's, and a grant with a ceiling and no price is refused when given", async () => {
    const { kernel, sb } = gate({ prices: { "gpt-y": { input: 1, output: 1 } } });
    const unpriced = kernel.parseSpec("model:openai:gpt-y;totalCost=1", { cwd: dir });
    expect(unpriced.grant.scope).toMatchObject({ totalCost: 1 });
    // A grant built without parseSpec (host code) is refused when opened.
    const direct = { ...unpriced.grant, scope: { ...(unpriced.grant.scope as object), models: ["gpt-z"] } };
    const error = await failure(kernel.grant(sb, "llm", unpriced.kind, direct));
    expect(error.code).toBe("USAGE");
    expect(error.message).toContain(
      "gpt-z has no price; set one in the grant's prices or the runtime's modelPrices",
    );
    expect(() => kernel.parseSpec("model:openai:gpt-y;prices=gpt-y:1", { cwd: dir })).toThrow(
      /"gpt-y:1" is not MODEL:IN\/OUT/,
    );
  });
});

describe("the key", () => {
  test("from the secret the grant names: sent to the provider, never in the audit, an error or the spec's audit form", async () => {
    const asked: string[] = [];
    const secrets = {
      resolve: async (name: string) => {
        asked.push(name);
        return SECRET_KEY;
      },
    };
    const { kernel, sb, sink, give } = gate({ secrets });
    const fd = await give("model:openai:gpt-x;key=secret:openai");
    expect(asked).toEqual(["openai"]);
    openai.reply({ json: openaiBody({ text: "hi" }) });
    await kernel.invoke(sb, fd, "complete", hello);
    expect(openai.received.at(-1)?.headers.authorization).toBe(`Bearer ${SECRET_KEY}`);
    openai.reply(openaiError(400, `your key ${SECRET_KEY} is bad`));
    const error = await failure(kernel.invoke(sb, fd, "complete", hello));
    expect(error.code).toBe("MODEL_ERROR");
    expect(error.message).not.toContain(SECRET_KEY);
    const child = await kernel.attenuateCall(sb, fd, { totalTokens: 10 });
    expect(child.fd).toBeGreaterThan(0);
    expect(JSON.stringify(sink.records)).not.toContain(SECRET_KEY);
    expect(JSON.stringify(sink.records)).not.toContain("secret:openai;");
  });

  test("a secret that cannot be had refuses the grant when it is given, with the store's words", async () => {
    const secrets = {
      resolve: async (name: string) => {
        throw new WardenError(
          "USAGE",
          `secret "${name}" comes from the environment variable X, which is not set`,
        );
      },
    };
    const { give } = gate({ secrets });
    const error = await failure(give("model:openai:gpt-x;key=secret:missing"));
    expect(error).toMatchObject({
      code: "USAGE",
      message: 'secret "missing" comes from the environment variable X, which is not set',
    });
    const none = await failure(gate().give("model:openai:gpt-x;key=secret:openai"));
    expect(none.message).toBe(
      'the model grant takes its key from secret "openai", but this runtime defines no secrets',
    );
  });

  test("without one, the provider's variable in the kernel's environment, as before", async () => {
    const { kernel, sb, give } = gate({
      env: { OPENAI_API_KEY: OPENAI_TEST_KEY, OPENAI_BASE_URL: openaiBaseURL(openai) },
    });
    const fd = await give("model:openai:gpt-x");
    openai.reply({ json: openaiBody({ text: "hi" }) });
    await kernel.invoke(sb, fd, "complete", hello);
    expect(openai.received.at(-1)?.headers.authorization).toBe(`Bearer ${OPENAI_TEST_KEY}`);
    const missing = gate();
    const fd2 = await missing.give("model:openai:gpt-x");
    const error = await failure(missing.kernel.invoke(missing.sb, fd2, "complete", hello));
    expect(error.message).toContain("the operator must set OPENAI_API_KEY");
  });
});
