// The host end of a sandbox's kernel channel: decodes a request, passes it through the gate, encodes the reply.

import { GUEST_CODES, WardenError } from "./errors.ts";
import { MAX_REQUEST_VALUES, withinValues } from "./isolates/bounds.ts";
import type { HostCall } from "./isolates/types.ts";
import type { Kernel, SandboxRecord } from "./kernel.ts";
import { ATTENUATE_OP, decode, encode, type Reply } from "./protocol/codec.ts";
import { jsonTextTooDeep, MAX_JSON_DEPTH } from "./protocol/depth.ts";

/** Never rejects: whatever happens becomes a reply the guest can read, with no host detail in it. */
export function bridgeTo(kernel: Kernel, sandbox: () => SandboxRecord | undefined): HostCall {
  return async (fd, op, argsJson) => {
    try {
      const sb = sandbox();
      if (!sb) throw new WardenError("CAPABILITY_DENIED", "handles can be used only while the tool runs");
      // Counted before anything reads them: decoding and parsing cost the kernel's thread per value.
      if (!withinValues(argsJson)) {
        throw kernel.refuse(
          sb,
          fd,
          op,
          new WardenError(
            "INVALID_ARGUMENT",
            `handle call arguments may hold at most ${MAX_REQUEST_VALUES.toLocaleString("en-US")} JSON values`,
          ),
        );
      }
      // Checked before decoding: the decoder's reviver and every schema after it recurse.
      if (jsonTextTooDeep(argsJson)) {
        throw kernel.refuse(
          sb,
          fd,
          op,
          new WardenError(
            "INVALID_ARGUMENT",
            `handle call arguments are nested more than ${MAX_JSON_DEPTH} levels deep (arrays and objects)`,
          ),
        );
      }
      let args: unknown;
      try {
        args = decode(argsJson);
      } catch {
        throw kernel.refuse(
          sb,
          fd,
          op,
          new WardenError("INVALID_ARGUMENT", "handle call arguments are not valid JSON"),
        );
      }
      const value =
        op === ATTENUATE_OP
          ? await kernel.attenuateCall(sb, fd, args)
          : await kernel.invoke(sb, fd, op, args, argsJson.length);
      return encode({ ok: true, value } satisfies Reply);
    } catch (error) {
      const e = kernel.internal(error, "the kernel channel");
      // A code the guest may not see is reported as INTERNAL with the same id-citing message.
      if (GUEST_CODES.has(e.code))
        return encode({ ok: false, error: { code: e.code, message: e.message } } satisfies Reply);
      const hidden = kernel.internal(
        new Error(`a ${e.code} error reached a guest's channel`, { cause: e }),
        "the kernel channel",
      );
      return encode({ ok: false, error: { code: "INTERNAL", message: hidden.message } } satisfies Reply);
    }
  };
}
