// The guest's end of the kernel channel: numbered requests out, replies matched back in. Runs inside sandboxes.
import { decode, encode } from "../../runtime/protocol/codec.ts";
import { WardenError } from "./errors.ts";

export type Send = (id: number, fd: number, op: string, argsJson: string) => void;

type Pending = { resolve: (value: unknown) => void; reject: (error: unknown) => void };

let send: Send | undefined;
let nextId = 1;
const pending = new Map<number, Pending>();

export function connect(fn: Send): void {
  if (send) throw new Error("already connected");
  send = fn;
}

export function hostCall(fd: number, op: string, args: unknown): Promise<unknown> {
  const out = send;
  if (!out) return Promise.reject(new WardenError("INTERNAL", "not connected to the kernel"));
  return new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    out(id, fd, op, encode(args ?? {}));
  });
}

export function reply(id: number, json: string): void {
  const waiter = pending.get(id);
  if (!waiter) return;
  pending.delete(id);
  const message = decode(json) as { ok: boolean; value?: unknown; error?: { code: string; message: string } };
  if (message.ok) waiter.resolve(message.value);
  else
    waiter.reject(
      new WardenError(message.error?.code ?? "INTERNAL", message.error?.message ?? "unknown error"),
    );
}
