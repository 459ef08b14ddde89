// The sandboxes and baselines the bench compares, each behind one small interface: start, call, stop.
import { fork } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { createContext, runInContext } from "node:vm";
import { Worker } from "node:worker_threads";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import ivm from "isolated-vm";
import type { Runtime } from "../../runtime/index.ts";

export interface Instance {
  /** Sends JSON in, gets JSON back: the same echo through every boundary. */
  call(json: string): Promise<string>;
  stop(): Promise<void>;
}

export interface Subject {
  name: string;
  /** True for Warden's own sandboxes; the others are baselines. */
  warden: boolean;
  /** For Warden's subjects, the backend (and isolation) tools are loaded with. */
  backend?: string;
  start(): Promise<Instance>;
}

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const ECHO = "(s) => JSON.stringify(JSON.parse(s))";

export function wardenSubject(runtime: Runtime, name: string, options: { backend?: string } = {}): Subject {
  return {
    name,
    warden: true,
    backend: options.backend,
    async start() {
      const tool = await runtime.loadTool(here("../tools/echo.js"), { backend: options.backend });
      return {
        call: async (json) => JSON.stringify(await tool.call(JSON.parse(json))),
        stop: () => tool.dispose(),
      };
    },
  };
}

/** The same call written by hand on bare isolated-vm: what Warden's V8 backend is measured against. */
export const bareIsolate: Subject = {
  name: "bare isolated-vm",
  warden: false,
  async start() {
    const isolate = new ivm.Isolate({ memoryLimit: 64 });
    const context = await isolate.createContext();
    const fn = (await context.eval(ECHO, { reference: true })) as ivm.Reference<(s: string) => string>;
    return {
      call: async (json) =>
        (await fn.apply(undefined, [json], { arguments: { copy: true }, result: { copy: true } })) as string,
      stop: async () => isolate.dispose(),
    };
  },
};

/** node:vm: a context with no security boundary at all, for scale. */
export const nodeVm: Subject = {
  name: "node:vm (no boundary)",
  warden: false,
  async start() {
    const context = createContext({});
    const fn = runInContext(ECHO, context) as (s: string) => string;
    return { call: async (json) => fn(json), stop: async () => {} };
  },
};

export const workerThread: Subject = {
  name: "worker thread",
  warden: false,
  async start() {
    const worker = new Worker(
      `const { parentPort } = require("node:worker_threads");
       parentPort.on("message", (s) => parentPort.postMessage(JSON.stringify(JSON.parse(s))));`,
      { eval: true },
    );
    await once(worker, "online");
    return {
      call: async (json) => {
        const reply = once(worker, "message");
        worker.postMessage(json);
        return (await reply)[0] as string;
      },
      stop: async () => void (await worker.terminate()),
    };
  },
};

export const childProcess: Subject = {
  name: "child process",
  warden: false,
  async start() {
    const child = fork(here("child-echo.js"), [], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
    await once(child, "spawn");
    return {
      call: async (json) => {
        const reply = once(child, "message");
        child.send(json);
        return (await reply)[0] as string;
      },
      stop: async () => {
        const exited = once(child, "exit");
        child.kill();
        await exited;
      },
    };
  },
};

export const mcpStdio: Subject = {
  name: "MCP server over stdio",
  warden: false,
  async start() {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [here("mcp-echo-server.js")],
    });
    const client = new Client({ name: "bench", version: "1.0.0" });
    await client.connect(transport);
    return {
      call: async (json) => {
        const { data } = JSON.parse(json) as { data: string };
        const result = await client.callTool({ name: "echo", arguments: { data } });
        return JSON.stringify(result.structuredContent);
      },
      stop: () => client.close(),
    };
  },
};
