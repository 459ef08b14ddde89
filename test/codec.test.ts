import { expect, test } from "vitest";
import { base64ToBytes, bytesToBase64, decode, encode } from "../runtime/protocol/codec.ts";

test.each([0, 1, 2, 3, 4, 5, 255, 1000])("base64 round-trips %i bytes and matches Node's encoder", (n) => {
  const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 255);
  const b64 = bytesToBase64(bytes);
  expect(b64).toBe(Buffer.from(bytes).toString("base64"));
  expect(base64ToBytes(b64)).toEqual(bytes);
});

test("bytes nested in messages survive encode/decode", () => {
  const msg = { a: [new Uint8Array([1, 2, 3])], b: "x" };
  expect(decode(encode(msg))).toEqual(msg);
});

test("invalid base64 is refused", () => {
  expect(() => base64ToBytes("a")).toThrow("invalid base64");
  expect(() => base64ToBytes("a*bc")).toThrow("invalid base64");
});

test("data keys that start with $ never read as a tag, in either direction", () => {
  const data = [
    { $bytes: "AAAA" },
    { headers: { $bytes: "AAAA", "content-type": "text/plain" } },
    { $$bytes: 1, $: 2, $$: 3, nested: [{ $bytes: new Uint8Array([7]) }] },
    JSON.parse('{"__proto__": {"polluted": true}, "$k": 1}'),
  ];
  for (const value of data) {
    const back = decode(encode(value));
    expect(back).toEqual(value);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
  }
  expect(encode({ $bytes: "AAAA" })).toBe('{"$$bytes":"AAAA"}');
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

test("a $ key that is no well-formed tag is refused", () => {
  for (const text of ['{"$x":1}', '{"$bytes":5}', '{"$bytes":"AAAA","b":1}']) {
    expect(() => decode(text)).toThrow("malformed tag");
  }
});
