// Node-only (node:crypto), so it is a separate entry point: @sonocode/contracts/test-set-hash.
import { createHash } from "node:crypto";

/** Bumped if the encoding ever changes: old and new hashes then can never collide. */
const DOMAIN = "sonocode-test-set-v1\n";

function u64(value: number): Buffer {
  const buffer = Buffer.alloc(8);
  buffer.writeBigUInt64BE(BigInt(value));
  return buffer;
}

/**
 * sha256 over a canonical, unambiguous encoding of the tests, in order:
 *   "sonocode-test-set-v1\n" || u64be(count) || per test:
 *   u8(hidden) || u64be(len(input)) || input || u64be(len(output)) || output
 * (lengths in UTF-8 bytes). Length prefixes mean no two different test sets
 * encode the same bytes, and it needs no JSON canonicalisation.
 */
export function testSetHash(tests: readonly { input: string; output: string; hidden: boolean }[]): string {
  const hash = createHash("sha256");
  hash.update(DOMAIN);
  hash.update(u64(tests.length));
  for (const test of tests) {
    const input = Buffer.from(test.input, "utf8");
    const output = Buffer.from(test.output, "utf8");
    hash.update(Buffer.of(test.hidden ? 1 : 0));
    hash.update(u64(input.length));
    hash.update(input);
    hash.update(u64(output.length));
    hash.update(output);
  }
  return hash.digest("hex");
}
