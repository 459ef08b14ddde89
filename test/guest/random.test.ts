// The guest runtime's random stream is ChaCha20 (RFC 8439), checked against the RFC's own keystream.
import { expect, test } from "vitest";
import { installRandom, seedRandom } from "../../sdk/guest/globals/random.ts";

test("the stream is ChaCha20's: RFC 8439 A.1, test vector 1 (zero key, zero nonce, block 0)", () => {
  const scope: { crypto?: { getRandomValues(a: Uint8Array): Uint8Array } } = {};
  const random = Math.random;
  try {
    installRandom(scope);
    seedRandom("00".repeat(32));
    // The first 16 bytes of the stream seed Math.random; getRandomValues hands out the rest of the block.
    const rest = scope.crypto!.getRandomValues(new Uint8Array(48));
    const block =
      "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7" +
      "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586";
    expect(Buffer.from(rest).toString("hex")).toBe(block.slice(32));
    expect(() => seedRandom("00".repeat(32))).toThrow("already seeded");
  } finally {
    Math.random = random;
  }
});
