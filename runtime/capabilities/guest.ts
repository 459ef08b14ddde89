// The guest registry: every kind's handle adapter for JS sandboxes, bundled into the guest runtime
// (sdk/guest/handles.ts) and read for tool authors' types (sdk/types.ts). Guest code: no Node types.
// Sandbox code cannot import the host registry (runtime/capabilities/index.ts); a test keeps the two alike.
import { clockGuest } from "./clock/guest.ts";
import { conversationGuest } from "./conversation/guest.ts";
import { fsGuest } from "./fs/guest.ts";
import { kvGuest } from "./kv/guest.ts";
import { logGuest } from "./log/guest.ts";
import { modelGuest } from "./model/guest.ts";
import { netGuest } from "./net/guest.ts";
import { toolGuest } from "./tool/guest.ts";

export const GUEST_ADAPTERS = [
  fsGuest,
  netGuest,
  kvGuest,
  clockGuest,
  logGuest,
  modelGuest,
  conversationGuest,
  toolGuest,
] as const;
