// The kernel's parsers for what a cell sends: a cell runs untrusted code, so each message is checked whole.
import { z } from "zod";
import { MAX_MESSAGE_CHARS, type RunValue, type Up } from "./protocol.ts";

const id = z.int().nonnegative();

const failure = z.strictObject({
  guest: z.boolean(),
  code: z.string().max(64),
  message: z.string().max(MAX_MESSAGE_CHARS),
});

export const upSchema: z.ZodType<Up> = z.discriminatedUnion("t", [
  z.strictObject({ t: z.literal("ready") }),
  z.strictObject({
    t: z.literal("call"),
    sb: id,
    id,
    fd: z.int(),
    op: z.string().max(64),
    argsJson: z.string(),
  }),
  z.strictObject({ t: z.literal("done"), req: id, value: z.unknown(), dead: z.boolean() }),
  z.strictObject({ t: z.literal("fail"), req: id, error: failure, dead: z.boolean() }),
]);

export const runValueSchema: z.ZodType<RunValue> = z.strictObject({
  outputJson: z.string(),
  usage: z.strictObject({ cpuMs: z.number(), wallMs: z.number(), heapBytes: z.number().optional() }),
});
