// Node-only (node:crypto), so it is a separate entry point: @sonocode/contracts/test-set-hash.
import { createHash } from "node:crypto";
import { isDefaultChecker, type Checker } from "./checker.js";
import type { TestGroup } from "./groups.js";
import type { Interactor } from "./interactor.js";

/** Bumped if the encoding ever changes: old and new hashes then can never collide. */
const DOMAIN = "sonocode-test-set-v1\n";
/** The version of a test set judged with more than its tests (a checker, groups). */
const JUDGING_DOMAIN = "sonocode-judging-set-v1\n";

function u64(value: number): Buffer {
  const buffer = Buffer.alloc(8);
  buffer.writeBigUInt64BE(BigInt(value));
  return buffer;
}

/**
 * sha256 over a canonical, unambiguous encoding of the tests, in order:
 *   "sonocode-test-set-v1\n" || u64be(count) || per test:
 *   u8(flags) || [u64be(len(group)) || group] || u64be(len(input)) || input || u64be(len(output)) || output
 * (lengths in UTF-8 bytes; flags: 1 = hidden, 2 = has a group, which then follows). A test
 * without a group encodes exactly as before groups existed, so those hashes never changed.
 * Length prefixes mean no two different test sets encode the same bytes, and it needs no
 * JSON canonicalisation.
 */
export function testSetHash(tests: readonly { input: string; output: string; hidden: boolean; group?: string | undefined }[]): string {
  const hash = createHash("sha256");
  hash.update(DOMAIN);
  hash.update(u64(tests.length));
  for (const test of tests) {
    const input = Buffer.from(test.input, "utf8");
    const output = Buffer.from(test.output, "utf8");
    hash.update(Buffer.of((test.hidden ? 1 : 0) | (test.group === undefined ? 0 : 2)));
    if (test.group !== undefined) {
      const group = Buffer.from(test.group, "utf8");
      hash.update(u64(group.length));
      hash.update(group);
    }
    hash.update(u64(input.length));
    hash.update(input);
    hash.update(u64(output.length));
    hash.update(output);
  }
  return hash.digest("hex");
}

/** The fields of a checker that change how it judges, in a fixed order (JSON of an array: no key-order ambiguity). */
function canonicalChecker(checker: Checker): unknown[] {
  return [
    checker.type,
    checker.epsilon ?? null,
    checker.caseSensitive ?? null,
    checker.protocol ?? null,
    checker.language ?? null,
    checker.source ?? null,
    (checker.files ?? []).map((file) => [file.name, file.content]),
  ];
}

/**
 * The version of what is judged against: the tests' hash alone when the checker is the
 * default and there are no groups (every hash made before checkers travelled with the
 * tests stays valid), else sha256 over the tests' hash, the checker, the groups and the
 * interactor (only when there is one: hashes made before interactors existed stay valid).
 * So a changed checker, subtask or interactor is a new test-set version, like a changed test.
 */
export function testSetVersionHash(
  testsHash: string,
  judging: { checker?: Checker | undefined; groups?: readonly TestGroup[] | undefined; interactor?: Interactor | undefined },
): string {
  const groups = judging.groups ?? [];
  if (isDefaultChecker(judging.checker) && groups.length === 0 && judging.interactor === undefined) return testsHash;
  const checker = judging.checker === undefined ? null : canonicalChecker(judging.checker);
  const canonicalGroups = groups.map((group) => [group.name, group.points, group.dependencies ?? []]);
  const parts: unknown[] = [checker, canonicalGroups];
  if (judging.interactor) parts.push(canonicalInteractor(judging.interactor));
  return createHash("sha256")
    .update(JUDGING_DOMAIN)
    .update(testsHash)
    .update("\n")
    .update(JSON.stringify(parts))
    .digest("hex");
}

/** The fields of an interactor, in a fixed order. */
function canonicalInteractor(interactor: Interactor): unknown[] {
  return ["interactor", interactor.protocol ?? "testlib", interactor.language, interactor.source, (interactor.files ?? []).map((file) => [file.name, file.content])];
}

/** The hash of a whole test set as problem-service serves it (what an evaluator verifies). */
export function testSetContentHash(set: {
  tests: readonly { input: string; output: string; hidden: boolean; group?: string | undefined }[];
  checker?: Checker | undefined;
  groups?: readonly TestGroup[] | undefined;
  interactor?: Interactor | undefined;
}): string {
  return testSetVersionHash(testSetHash(set.tests), set);
}
