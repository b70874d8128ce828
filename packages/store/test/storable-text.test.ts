// The storable-text rule (contracts/storable-text.ts) against every store adapter:
// whatever bytes a program or compiler prints, once they have crossed storableText()
// every store keeps them exactly, and verdictFieldsSchema refuses text that has not.
// PGlite always; PostgreSQL when TEST_DATABASE_URL is set (npm test sets it); MongoDB on
// MONGO_URL's server, else on the wire-compatible stand-in (not MongoDB; mongo-target.ts).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { NUL_SYMBOL, REPLACEMENT_CHARACTER, isStorableText, storableText, verdictFieldsSchema, type VerdictFields } from "@sonocode/contracts";
import { createTestDatabase } from "@sonocode/testkit";
import { createStore, newObjectId, type Store } from "../src/index.js";
import { mongoDatabase, mongoTarget } from "./mongo-target.js";

/** Bytes a program may print, biased towards the awkward ones: NUL, UTF-8 lead/continuation bytes, emoji, CR. */
const awkwardBytes = fc
  .array(
    fc.oneof(
      fc.uint8Array({ maxLength: 24 }),
      fc.constantFrom(
        Uint8Array.of(0),
        Uint8Array.of(0xf0, 0x9f, 0x98, 0x80), // 😀, four bytes, two UTF-16 units
        Uint8Array.of(0xf0, 0x9f), // a four-byte sequence cut short
        Uint8Array.of(0xed, 0xa0, 0x80), // an encoded surrogate: invalid UTF-8
        Uint8Array.of(0xc0, 0x80), // overlong NUL
        Uint8Array.of(0xe2, 0x82, 0xac), // €
        Uint8Array.of(0x0d, 0x0a),
      ),
    ),
    { maxLength: 40 },
  )
  .map((parts) => Buffer.concat(parts));

const cap = fc.option(fc.integer({ min: 0, max: 80 }), { nil: undefined });

function codePoints(text: string): number {
  return [...text].length;
}

describe("storableText (pure)", () => {
  it("any bytes become storable text, capped by code points", () => {
    fc.assert(
      fc.property(awkwardBytes, cap, (bytes, max) => {
        const text = storableText(bytes, { maxCodePoints: max, truncatedNote: () => "" });
        assert.ok(isStorableText(text), JSON.stringify(text));
        if (max !== undefined) assert.ok(codePoints(text) <= max);
        // Uncut, nothing but NUL changes from the plain UTF-8 decoding (which replaces bad bytes).
        const decoded = bytes.toString("utf8");
        if (max === undefined || codePoints(decoded) <= max) assert.equal(text, decoded.replaceAll("\0", NUL_SYMBOL));
        // Cut, it is a prefix by code points of that same text.
        else assert.deepEqual([...text], [...decoded.replaceAll("\0", NUL_SYMBOL)].slice(0, max));
      }),
      { numRuns: 500 },
    );
  });

  it("any string (lone surrogates included) becomes storable text; a pair is never split", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 60 }), fc.string({ unit: fc.constantFrom("\ud83d", "\ude00", "\0", "a"), maxLength: 20 }), cap, (a, b, max) => {
        const text = storableText(a + b, { maxCodePoints: max });
        assert.ok(isStorableText(text), JSON.stringify(text));
      }),
      { numRuns: 500 },
    );
  });

  it("emoji cut at the cap: whole code points only, and the note says how much is left", () => {
    const emoji = "😀".repeat(5);
    assert.equal(storableText(emoji, { maxCodePoints: 3, truncatedNote: () => "" }), "😀😀😀");
    assert.equal(storableText(emoji, { maxCodePoints: 3 }), "😀😀😀\n… (truncated, 2 more characters)");
    assert.equal(storableText(Buffer.from(emoji), { maxCodePoints: 1 }), "😀\n… (truncated, 20 bytes in all)");
    // A 64 MiB output costs only its head.
    const huge = Buffer.alloc(64 << 20, 0x61);
    const started = performance.now();
    assert.equal(storableText(huge, { maxCodePoints: 4, truncatedNote: () => "" }), "aaaa");
    assert.ok(performance.now() - started < 50);
  });

  it("NUL is visible, bad bytes and lone surrogates are replaced", () => {
    assert.equal(storableText(Buffer.from("a\0b")), `a${NUL_SYMBOL}b`);
    assert.equal(storableText(Uint8Array.of(0x61, 0xff, 0x62)), `a${REPLACEMENT_CHARACTER}b`);
    assert.equal(storableText("x\ud800y\udc00"), `x${REPLACEMENT_CHARACTER}y${REPLACEMENT_CHARACTER}`);
    assert.ok(!isStorableText("a\0"));
    assert.ok(!isStorableText("\ud83d"));
    assert.ok(!isStorableText("\ude00x"));
    assert.ok(isStorableText("😀"));
  });

  it("verdictFieldsSchema refuses text that did not cross the rule", () => {
    const base = verdict("ok");
    assert.ok(verdictFieldsSchema.safeParse(base).success);
    for (const bad of ["a\0b", "x\ud83d", "\ude00"]) {
      assert.equal(verdictFieldsSchema.safeParse({ ...base, compileOutput: bad }).success, false);
      assert.equal(verdictFieldsSchema.safeParse({ ...base, message: bad }).success, false);
      assert.equal(verdictFieldsSchema.safeParse({ ...base, failedTest: { index: 0, input: "", expected: "", actual: bad } }).success, false);
    }
  });
});

function verdict(text: string): VerdictFields {
  return {
    status: "WA",
    passed: 0,
    total: 1,
    timeMs: 1,
    memoryKb: 1,
    results: [{ index: 0, status: "WA", timeMs: 1, memoryKb: 1 }],
    compileOutput: text,
    failedTest: { index: 0, input: text, expected: text, actual: text },
    message: text,
  };
}

interface Adapter {
  name: string;
  skip: string | false;
  open: () => Promise<{ store: Store; drop: () => Promise<void> }>;
}

const ADAPTERS: Adapter[] = [
  { name: "pglite", skip: false, open: async () => ({ store: await createStore({ kind: "pglite", dataDir: null }), drop: async () => {} }) },
  {
    name: "postgres",
    skip: process.env.TEST_DATABASE_URL ? false : "TEST_DATABASE_URL is not set",
    open: async () => {
      const database = await createTestDatabase("storable");
      return { store: await createStore({ kind: "postgres", url: database.url }), drop: database.drop };
    },
  },
  {
    // The server MONGO_URL names, else the wire-compatible stand-in (not MongoDB; mongo-target.ts).
    name: mongoTarget.name,
    skip: false,
    open: async () => {
      const database = mongoDatabase("storable");
      return { store: await database.open(), drop: database.drop };
    },
  },
];

for (const adapter of ADAPTERS) {
  describe(`storable text through the ${adapter.name} store`, { skip: adapter.skip }, () => {
    let store: Store;
    let drop: () => Promise<void>;
    before(async () => {
      ({ store, drop } = await adapter.open());
    });
    after(async () => {
      await store?.close();
      await drop?.();
    });

    async function roundTrip(text: string): Promise<void> {
      const created = await store.submissions.create({ userId: "user-1", problemId: newObjectId(), language: "PYTHON", code: "print(1)", total: 1 });
      const result = await store.submissions.finalize(created._id, verdict(text));
      assert.ok(result?.applied, "the verdict was applied");
      const stored = await store.submissions.findById(created._id);
      assert.equal(stored?.status, "WA", "the submission is final");
      assert.equal(stored?.compileOutput, text);
      assert.equal(stored?.message, text);
      assert.deepEqual(stored?.failedTest, { index: 0, input: text, expected: text, actual: text });
    }

    it("random program bytes, once storable, are kept exactly in every verdict field", async () => {
      await fc.assert(
        fc.asyncProperty(awkwardBytes, cap, async (bytes, max) => roundTrip(storableText(bytes, { maxCodePoints: max }))),
        { numRuns: 40 },
      );
    });

    it("random strings with lone surrogates and NULs, once storable, are kept exactly", async () => {
      await fc.assert(
        fc.asyncProperty(fc.string({ unit: "binary", maxLength: 40 }), cap, async (text, max) => roundTrip(storableText(text, { maxCodePoints: max }))),
        { numRuns: 40 },
      );
    });

    it("the cases that used to leave a submission Running: NUL output, split emoji, NUL in compiler output", async () => {
      await roundTrip(storableText(Buffer.from("ok\0\0done\n")));
      await roundTrip(storableText("😀😀😀", { maxCodePoints: 2 }));
      await roundTrip(storableText(Buffer.from("😀😀").subarray(0, 6)));
      await roundTrip(storableText(Buffer.from("main.c:1: error: stray '\\0'\0 in program")));
    });
  });
}
