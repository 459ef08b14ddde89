// Types of the handles a tool's run() receives, by capability type: read from the guest registry
// (runtime/capabilities/guest.ts), where each kind's guest adapter declares its handle's type.
import type { ClockHandle } from "../runtime/capabilities/clock/guest.ts";
import type { ConversationHandle } from "../runtime/capabilities/conversation/guest.ts";
import type { FsEntry, FsHandle, FsStat } from "../runtime/capabilities/fs/guest.ts";
import type { GUEST_ADAPTERS } from "../runtime/capabilities/guest.ts";
import type { KvHandle } from "../runtime/capabilities/kv/guest.ts";
import type { LogHandle } from "../runtime/capabilities/log/guest.ts";
import type {
  ModelCompletion,
  ModelHandle,
  ModelMessage,
  ModelRequest,
  ModelToolCall,
} from "../runtime/capabilities/model/guest.ts";
import type { FetchInit, FetchResponse, NetHandle } from "../runtime/capabilities/net/guest.ts";
import type { ToolHandle } from "../runtime/capabilities/tool/guest.ts";

export type {
  ClockHandle,
  ConversationHandle,
  FetchInit,
  FetchResponse,
  FsEntry,
  FsHandle,
  FsStat,
  KvHandle,
  LogHandle,
  ModelCompletion,
  ModelHandle,
  ModelMessage,
  ModelRequest,
  ModelToolCall,
  NetHandle,
  ToolHandle,
};

type Adapter = (typeof GUEST_ADAPTERS)[number];

/** Each capability type's handle, from the guest registry. */
export type HandleByType = { [A in Adapter as A["kind"]]: NonNullable<A["handle"]> };

/** A capability type a tool may declare: "fs", "net", … */
export type CapabilityType = keyof HandleByType;

export type Handles<C extends Record<string, { type: CapabilityType }>> = {
  readonly [K in keyof C]: HandleByType[C[K]["type"]];
};
