// The host end of a sandbox's kernel channel: decodes a request, passes it through the gate, encodes the reply.

import { GUEST_CODES, WardenError } from "./errors.ts";
import { MAX_REQUEST_VALUES } from "./isolates/bounds.ts";
import type { HostCall } from "./isolates/types.ts";
import type { Kernel, SandboxRecord } from "./kernel.ts";
import { ATTENUATE_OP, decode, encode, type Reply } from "./protocol/codec.ts";
import { jsonTextOver, MAX_JSON_DEPTH } from "./protocol/depth.ts";

/** Never rejects: whatever happens becomes a reply the guest can read, with no host detail in it. */
export function bridgeTo(kernel: Kernel, sandbox: () => SandboxRecord | undefined): HostCall {
  return async (fd, op, argsJson) => {
    try {
      const sb = sandbox();
      if (!sb) throw new WardenError("CAPABILITY_DENIED", "handles can be used only while the tool runs");
      // Measured before anything reads them, in one pass: decoding and parsing cost the kernel's thread per
      // value, and the decoder's reviver and every schema after it recurse.
      const over = jsonTextOver(argsJson, { depth: MAX_JSON_DEPTH, values: MAX_REQUEST_VALUES });
      if (over !== undefined) {
        const why =
          over === "values"
            ? `handle call arguments may hold at most ${MAX_REQUEST_VALUES.toLocaleString("en-US")} JSON values`
            : `handle call arguments are nested more than ${MAX_JSON_DEPTH} levels deep (arrays and objects)`;
        throw kernel.refuse(sb, fd, op, new WardenError("INVALID_ARGUMENT", why));
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
