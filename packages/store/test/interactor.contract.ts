// An interactive problem's interactor through a store adapter: written, read back whole, part
// of the test set's version (a PATCH of the interactor alone changes it), and removable.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Interactor, ProblemInput } from "@sonocode/contracts";
import { testSetContentHash, testSetHash } from "@sonocode/contracts/test-set-hash";
import type { Store } from "../src/index.js";

const INTERACTOR: Interactor = { protocol: "testlib", language: "C", source: "int main(void) { return 0; }", files: [{ name: "testlib.h", content: "/* header */" }] };

function problem(overrides: Partial<ProblemInput> = {}): ProblemInput {
  return { title: "Guess", description: "Guess the number.", difficulty: "easy", codeStubs: [], testCases: [{ input: "5\n", output: "", hidden: false }], interactor: INTERACTOR, ...overrides };
}

export function interactorContract(name: string, setup: () => Promise<{ open: () => Promise<Store>; drop: () => Promise<void> }>): void {
  describe(`interactor in the problem store: ${name}`, () => {
    let store: Store;
    let drop: () => Promise<void>;
    before(async () => {
      const made = await setup();
      drop = made.drop;
      store = await made.open();
    });
    after(async () => {
      await store?.close();
      await drop?.();
    });

    it("keeps the interactor whole, versions the test set by it, and PATCHes it alone", async () => {
      const created = await store.problems.create(problem());
      assert.deepEqual(created.interactor, INTERACTOR);
      const read = await store.problems.findById(created._id);
      assert.deepEqual(read?.interactor, INTERACTOR);
      assert.notEqual(created.testSet.hash, testSetHash(created.testCases));
      assert.equal(created.testSet.hash, testSetContentHash({ tests: created.testCases, interactor: INTERACTOR }));

      const other: Interactor = { language: "PYTHON", source: "print(1)" };
      const patched = await store.problems.update(created._id, { interactor: other });
      assert.deepEqual(patched?.interactor, other);
      assert.notEqual(patched?.testSet.hash, created.testSet.hash);

      const plain = await store.problems.create(problem({ interactor: undefined }));
      assert.equal(plain.interactor, undefined);
      assert.equal(plain.testSet.hash, testSetHash(plain.testCases), "no interactor: the tests' hash alone, as before");
    });
  });
}
