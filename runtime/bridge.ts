// The host end of a sandbox's kernel channel: decodes a request, passes it through the gate, encodes the reply.

import { GUEST_CODES, WardenError } from "./errors.ts";
import { MAX_REQUEST_VALUES, withinValues } from "./isolates/bounds.ts";
import type { HostCall } from "./isolates/types.ts";
import type { Kernel, SandboxRecord } from "./kernel.ts";
import { decode, encode } from "./protocol/codec.ts";

/** Never rejects: whatever happens becomes a reply the guest can read, with no host detail in it. */
export function bridgeTo(kernel: Kernel, sandbox: () => SandboxRecord | undefined): HostCall {
  return async (fd, op, argsJson) => {
    try {
      const sb = sandbox();
      if (!sb) throw new WardenError("CAPABILITY_DENIED", "handles can be used only while the tool runs");
      // Counted before anything reads them: decoding and parsing cost the kernel's thread per value.
      if (!withinValues(argsJson)) {
        throw new WardenError(
          "INVALID_ARGUMENT",
          `handle call arguments may hold at most ${MAX_REQUEST_VALUES.toLocaleString("en-US")} JSON values`,
        );
      }
      let args: unknown;
      try {
        args = decode(argsJson);
      } catch {
        throw new WardenError("INVALID_ARGUMENT", "handle call arguments are not valid JSON");
      }
      return encode({ ok: true, value: await kernel.invoke(sb, fd, op, args, argsJson.length) });
    } catch (error) {
      const e = error instanceof WardenError ? error : new WardenError("INTERNAL", "internal error");
      const code = GUEST_CODES.has(e.code) ? e.code : "INTERNAL";
      return encode({ ok: false, error: { code, message: code === e.code ? e.message : "internal error" } });
    }
  };
}
