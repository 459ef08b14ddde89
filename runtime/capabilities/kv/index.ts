// The kv capability: a private key-value store per tool, keyed by the tool's identity, never by the guest.
import { z } from "zod";
import { WardenError } from "../../errors.ts";
import { parseRights } from "../rights.ts";
import type { CapabilityKind, Grant, KindEnv } from "../types.ts";
import { defineOperation } from "../types.ts";
import type { KvStore } from "./store.ts";

export interface KvScope {
  namespace: string;
  /** Key prefix this handle is confined to (attenuation narrows it). */
  prefix: string;
  maxValueBytes: number;
  maxTotalBytes: number;
}

export const KV_RIGHTS = ["read", "write", "delete", "list"] as const;
const RIGHTS = KV_RIGHTS;
/** Keys and prefixes are well-formed UTF-16: a lone surrogate would merge with its neighbours in a store. */
const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => s.isWellFormed(), "must be well-formed text: it holds a lone surrogate (\\ud800-\\udfff)");
const key = text(512).min(1);
const narrowArgs = z.strictObject({ prefix: text(256).min(1) });
export const NAMESPACE = /^[A-Za-z0-9._-]{1,64}$/;

function scoped(grant: Grant<KvScope>, k: string): string {
  return grant.scope.prefix + k;
}

/** A kv grant of these rights on the named shared store, or on the holder's private one when `name` is undefined. */
export function kvGrant(rights: string[], name: string | undefined, env: KindEnv): Grant<KvScope> {
  const namespace = name === undefined ? `tool:${env.identity}` : `named:${name}`;
  return { rights, scope: { namespace, prefix: "", maxValueBytes: 1 << 20, maxTotalBytes: 64 << 20 } };
}

function formatKvSpec(grant: Grant<KvScope>): string {
  return `kv:${grant.rights.join(",")}${grant.scope.namespace.startsWith("named:") ? `:${grant.scope.namespace.slice(6)}` : ""}`;
}

export function createKvKind(store: KvStore): CapabilityKind<KvScope, void> {
  const ops = {
    get: defineOperation<KvScope, void, { key: string }>({
      right: "read",
      args: z.strictObject({ key }),
      async run({ grant }, { key: k }) {
        const raw = store.get(grant.scope.namespace, scoped(grant, k));
        return raw === undefined ? null : (JSON.parse(raw) as unknown);
      },
      summary: (a) => `get ${a.key}`,
    }),
    set: defineOperation<KvScope, void, { key: string; value: unknown }>({
      right: "write",
      args: z.strictObject({ key, value: z.json() }),
      async run({ grant }, { key: k, value }) {
        const raw = JSON.stringify(value);
        const bytes = Buffer.byteLength(raw);
        if (bytes > grant.scope.maxValueBytes) {
          throw new WardenError(
            "LIMIT_EXCEEDED",
            `kv value for "${k}" is ${bytes} bytes, over the ${grant.scope.maxValueBytes}-byte limit per value`,
          );
        }
        const full = scoped(grant, k);
        const previous = store.get(grant.scope.namespace, full);
        const replaced = previous === undefined ? 0 : Buffer.byteLength(previous) + Buffer.byteLength(full);
        const used = store.size(grant.scope.namespace) - replaced;
        if (used + bytes + Buffer.byteLength(full) > grant.scope.maxTotalBytes) {
          throw new WardenError(
            "LIMIT_EXCEEDED",
            `kv store is full (${used} of ${grant.scope.maxTotalBytes} bytes); delete keys first`,
          );
        }
        store.set(grant.scope.namespace, full, raw);
        return null;
      },
      summary: (a) => `set ${a.key}`,
    }),
    delete: defineOperation<KvScope, void, { key: string }>({
      right: "delete",
      args: z.strictObject({ key }),
      async run({ grant }, { key: k }) {
        return store.delete(grant.scope.namespace, scoped(grant, k));
      },
      summary: (a) => `delete ${a.key}`,
    }),
    list: defineOperation<KvScope, void, { prefix: string; limit: number }>({
      right: "list",
      args: z.strictObject({
        prefix: text(512).default(""),
        limit: z.int().min(1).max(1000).default(100),
      }),
      async run({ grant }, { prefix, limit }) {
        const keys = store.list(grant.scope.namespace, grant.scope.prefix + prefix, limit);
        return keys.map((k) => k.slice(grant.scope.prefix.length));
      },
      summary: (a) => `list ${a.prefix}*`,
    }),
  };

  return {
    kind: "kv",
    rights: RIGHTS,
    defaultRights: RIGHTS,
    parseSpec(body: string, env: KindEnv): Grant<KvScope> {
      const [rightsText = "", name, ...rest] = body.split(":");
      if (rest.length > 0 || (name !== undefined && !NAMESPACE.test(name))) {
        throw new WardenError(
          "USAGE",
          `bad kv grant "kv:${body}"; use kv, kv:RIGHTS or kv:RIGHTS:NAME (NAME: letters, digits, ".", "_", "-") to share a named store`,
        );
      }
      if (name === undefined && !env.identity)
        throw new WardenError("USAGE", "a kv grant needs the tool's identity");
      const rights = rightsText === "" ? [...RIGHTS] : parseRights("kv", rightsText, RIGHTS);
      return kvGrant(rights, name, env);
    },
    formatSpec: formatKvSpec,
    // The store's name, if shared, is the operator's word, not a host path; a private store's identity is not shown.
    auditForm: formatKvSpec,
    describe: (grant) => {
      const keys = grant.scope.prefix ? `keys starting with "${grant.scope.prefix}"` : "keys";
      const store = grant.scope.namespace.startsWith("named:")
        ? `the shared store "${grant.scope.namespace.slice(6)}"`
        : "its private store";
      return `${grant.rights.join(", ")} ${keys} in ${store}`;
    },
    async open() {},
    async close() {},
    narrowArgs,
    async narrow(parent, request) {
      const { prefix } = narrowArgs.parse(request);
      return { ...parent.grant.scope, prefix: parent.grant.scope.prefix + prefix };
    },
    ops,
  };
}
