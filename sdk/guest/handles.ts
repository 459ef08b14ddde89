// The handle objects a tool's run() receives: each kind's adapter (runtime/capabilities/<kind>/guest.ts) plus attenuate.
// Runs inside sandboxes. A handle is only a descriptor: forging or mutating one gains nothing the kernel has not granted.
import { GUEST_ADAPTERS } from "../../runtime/capabilities/guest.ts";
import type { GuestAdapter, GuestCall, HandleBase } from "../../runtime/capabilities/guest-kind.ts";
import { ATTENUATE_OP } from "../../runtime/protocol/codec.ts";
import { hostCall } from "./channel.ts";

export interface HandleInfo {
  fd: number;
  kind: string;
  rights: readonly string[];
}

const adapters = new Map<string, GuestAdapter<string, HandleBase>>(GUEST_ADAPTERS.map((a) => [a.kind, a]));

export function makeHandle(info: HandleInfo): Readonly<Record<string, unknown>> {
  const call: GuestCall = (op, args) => hostCall(info.fd, op, args);
  const methods = adapters.get(info.kind)?.methods(call) ?? {};
  return Object.freeze({
    ...methods,
    kind: info.kind,
    rights: Object.freeze([...info.rights]),
    /** A narrower handle: fewer rights and/or a narrower scope (a subdirectory, a key prefix). */
    attenuate: async (request: Record<string, unknown>) => {
      const child = (await hostCall(info.fd, ATTENUATE_OP, request)) as { fd: number; rights: string[] };
      return makeHandle({ fd: child.fd, kind: info.kind, rights: child.rights });
    },
  });
}
