// The net handle inside a JS sandbox: fetch and its response object, and the types tool authors see. Guest code.
import { utf8Decode } from "../../protocol/utf8.ts";
import { defineGuestAdapter, type HandleBase } from "../guest-kind.ts";

export interface FetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}
export interface FetchResponse {
  readonly status: number;
  readonly statusText: string;
  readonly ok: boolean;
  readonly url: string;
  readonly headers: { get(name: string): string | null; entries(): [string, string][] };
  bytes(): Promise<Uint8Array>;
  arrayBuffer(): Promise<ArrayBuffer>;
  text(): Promise<string>;
  json(): Promise<unknown>;
}
export interface NetHandle extends HandleBase {
  fetch(url: string, init?: FetchInit): Promise<FetchResponse>;
  attenuate(request: { origins?: string[]; rights?: string[] }): Promise<NetHandle>;
}

interface FetchResult {
  status: number;
  statusText: string;
  url: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

function response(r: FetchResult) {
  return Object.freeze({
    status: r.status,
    statusText: r.statusText,
    ok: r.status >= 200 && r.status < 300,
    url: r.url,
    headers: Object.freeze({
      get: (name: string) => r.headers[String(name).toLowerCase()] ?? null,
      entries: () => Object.entries(r.headers),
    }),
    bytes: async () => r.body,
    arrayBuffer: async () => r.body.slice().buffer,
    text: async () => utf8Decode(r.body),
    json: async () => JSON.parse(utf8Decode(r.body)) as unknown,
  });
}

export const netGuest = defineGuestAdapter<NetHandle>()({
  kind: "net",
  methods: (call) => ({
    fetch: async (url: string, init?: FetchInit) =>
      response((await call("fetch", { url: String(url), ...init })) as FetchResult),
  }),
});
