import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readFileSync } from "node:fs";
import { checkExact, checkFloat, checkOutput, checkTokens, floatsEqual } from "../src/checkers.js";

describe("exact checker", () => {
  it("ignores CRLF, trailing spaces per line and trailing blank lines", () => {
    assert.ok(checkExact("1 2\n3\n", "1 2  \r\n3\r\n\r\n\n"));
    assert.ok(checkExact("a", "a\n"));
    assert.ok(checkExact("", "\n\n"));
  });
  it("keeps leading spaces, inner spaces, inner blank lines and case significant", () => {
    assert.ok(!checkExact("1 2", " 1 2"));
    assert.ok(!checkExact("1 2", "1  2"));
    assert.ok(!checkExact("a\nb", "a\n\nb"));
    assert.ok(!checkExact("Yes", "yes"));
    assert.ok(!checkExact("1\n2", "1"));
    assert.ok(!checkExact("", "0"));
  });
});

describe("tokens checker", () => {
  it("is whitespace-insensitive", () => {
    assert.ok(checkTokens("1 2 3", "1\n2\t\t3\n"));
    assert.ok(checkTokens("  a  ", "a"));
  });
  it("still compares tokens exactly", () => {
    assert.ok(!checkTokens("1 2 3", "1 2"));
    assert.ok(!checkTokens("1.0", "1"));
    assert.ok(!checkTokens("a b", "b a"));
  });
});

describe("float checker", () => {
  it("accepts absolute or relative error within epsilon", () => {
    assert.ok(checkFloat("0.3333333", "0.33333334", 1e-6));
    assert.ok(checkFloat("1000000000", "1000000001", 1e-6)); // relative
    assert.ok(checkFloat("1e-9", "0", 1e-6)); // absolute
    assert.ok(!checkFloat("1.0", "1.1", 1e-6));
  });
  it("never treats NaN as equal", () => {
    assert.ok(!floatsEqual(NaN, NaN, 1));
    assert.ok(!checkFloat("nan", "nan", 1e-6));
    assert.ok(!checkFloat("1.0", "nan", 1e-6));
  });
  it("compares non-numeric tokens exactly and counts tokens", () => {
    assert.ok(checkFloat("Case #1: 2.50000", "Case #1: 2.5", 1e-6));
    assert.ok(!checkFloat("Case #1: 2.5", "case #1: 2.5", 1e-6));
    assert.ok(!checkFloat("1 2", "1 2 3", 1e-6));
    assert.ok(!checkFloat("1", "0x1", 1e-6));
    assert.ok(!checkFloat("1", "", 1e-6));
  });
  it("handles infinities", () => {
    assert.ok(checkFloat("inf", "Infinity", 1e-6));
    assert.ok(!checkFloat("inf", "-inf", 1e-6));
    assert.ok(!checkFloat("1e308", "inf", 1e-6));
  });
  it("is selected by checkOutput with a default epsilon", () => {
    assert.ok(checkOutput({ type: "float" }, "3.14159265", "3.1415927"));
    assert.ok(!checkOutput({ type: "float", epsilon: 1e-9 }, "3.14159265", "3.1415927"));
    assert.ok(checkOutput({ type: "tokens" }, "1 2", "1\n2"));
    assert.ok(!checkOutput({ type: "exact" }, "1 2", "1\n2"));
  });
});

// Outputs shaped to hurt: each must be judged right (speed is measured in bench/checker.bench.ts).
describe("adversarial outputs", () => {
  const MiB = 1024 * 1024;
  it("one line of megabytes of spaces: trailing whitespace, still linear", () => {
    const spaces = Buffer.alloc(8 * MiB, 0x20);
    assert.ok(checkExact("3\n", Buffer.concat([Buffer.from("3"), spaces])));
    assert.ok(!checkExact("3\n", Buffer.concat([Buffer.from("3"), spaces, Buffer.from("x")])));
    assert.ok(!checkExact("3\n", spaces), "a blank line is not 3");
    assert.ok(checkExact("", spaces));
    assert.ok(checkTokens("3", Buffer.concat([spaces, Buffer.from("3"), spaces])));
    assert.ok(checkFloat("3", Buffer.concat([spaces, Buffer.from("3.0000001"), spaces])));
  });
  it("a right answer followed by megabytes of newlines (LF, CRLF, CR) and blank lines", () => {
    for (const tail of ["\n", "\r\n", "\r", " \t\n"]) {
      const out = Buffer.concat([Buffer.from("1 2\n3"), Buffer.from(tail.repeat((4 * MiB) / tail.length))]);
      assert.ok(checkExact("1 2\n3\n", out), JSON.stringify(tail));
      assert.ok(checkTokens("1 2 3", out));
    }
    assert.ok(!checkExact("1\n", Buffer.concat([Buffer.from("1"), Buffer.alloc(4 * MiB, 0x0a), Buffer.from("2")])));
  });
  it("megabytes of digits as one token, against a short answer and against itself", () => {
    const digits = Buffer.alloc(8 * MiB, 0x37);
    assert.ok(!checkExact("7\n", digits));
    assert.ok(!checkTokens("7", digits));
    assert.ok(!checkFloat("7", digits));
    assert.ok(checkFloat(digits, digits), "an identical token too long to parse is still equal");
    assert.ok(checkExact(digits, Buffer.concat([digits, Buffer.from("\n")])));
  });
  it("long float tokens: what used to backtrack in the number regex", () => {
    const long = `${"1".repeat(100_000)}x`;
    assert.ok(!checkFloat("1", long));
    assert.ok(!checkFloat("1", `${"1".repeat(100_000)}.${"1".repeat(100_000)}e`));
    assert.ok(checkFloat("0.5", `0.${"4".repeat(1)}99999999`));
    assert.ok(checkFloat("1", `1.${"0".repeat(900)}`), "a long but parseable number");
    assert.ok(!checkFloat("1", `1.${"0".repeat(2000)}`), "past MAX_NUMBER_TOKEN_BYTES only identical tokens are equal");
  });
  it("NUL bytes and invalid UTF-8 are compared as bytes", () => {
    assert.ok(!checkExact("a\n", Buffer.from("a\0\n")));
    assert.ok(checkExact(Buffer.from([0xff, 0x0a]), Buffer.from([0xff])));
    assert.ok(!checkExact(Buffer.from([0xff]), Buffer.from([0xfe])));
  });
});

describe("checker pool (worker threads)", () => {
  it("checks, expected from text or a file, and closes", async () => {
    const { mkdtemp, writeFile, rm } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { createCheckPool } = await import("../src/check/check-pool.js");
    const dir = await mkdtemp(join(tmpdir(), "sonocode-check-"));
    const pool = createCheckPool({ size: 2 });
    try {
      await writeFile(join(dir, "answer"), "1 2\n3\n");
      const small = Buffer.from("1 2\n3   \n\n");
      const results = await Promise.all([
        pool.check({ type: "exact" }, { text: "1 2\n3\n" }, small),
        pool.check({ type: "exact" }, { path: join(dir, "answer") }, Buffer.from("1 2\n3\n")),
        pool.check({ type: "exact" }, { path: join(dir, "answer") }, Buffer.from("1 2\n4\n")),
        pool.check({ type: "float", epsilon: 1e-3 }, { text: "0.5" }, Buffer.from("0.5004")),
      ]);
      assert.deepEqual(results, [true, true, false, true]);
      assert.equal(small.toString(), "1 2\n3   \n\n", "a pooled small buffer is copied, not detached");
      await assert.rejects(pool.check({ type: "exact" }, { path: join(dir, "missing") }, Buffer.from("x")), /checker failed/);
    } finally {
      await pool.close();
      await rm(dir, { recursive: true, force: true });
    }
    await assert.rejects(pool.check({ type: "exact" }, { text: "" }, Buffer.from("")), /closed/);
  });

  it("small checks run on the calling thread (no worker started), big ones in a worker, with the same answers and errors", async () => {
    const { mkdtemp, writeFile, rm } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { createCheckPool, INLINE_CHECK_BYTES } = await import("../src/check/check-pool.js");
    const threads = () => Number(/Threads:\s*(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))![1]);
    const dir = await mkdtemp(join(tmpdir(), "sonocode-check-"));
    const pool = createCheckPool({ size: 1 });
    try {
      // Answers of both sizes, each as text and as a file; outputs just under, at and over the limit.
      const line = (n: number) => `${"7 ".repeat(n / 2 - 1)}7\n`;
      const small = line(INLINE_CHECK_BYTES - 2);
      const big = line(INLINE_CHECK_BYTES + 2);
      await writeFile(join(dir, "small"), small);
      await writeFile(join(dir, "big"), big);
      const before = threads();
      const inline = await Promise.all([
        pool.check({ type: "exact" }, { path: join(dir, "small") }, Buffer.from(small)),
        pool.check({ type: "tokens" }, { text: small }, Buffer.from(small.replace("7 7", "7\n7"))),
        pool.check({ type: "exact" }, { path: join(dir, "small") }, Buffer.from(small.replace("7", "8"))),
        pool.check({ type: "float", epsilon: 1e-3 }, { text: "0.5" }, Buffer.from("0.5004")),
      ]);
      assert.deepEqual(inline, [true, true, false, true]);
      await assert.rejects(pool.check({ type: "exact" }, { path: join(dir, "missing") }, Buffer.from("x")), /checker failed: ENOENT/);
      assert.equal(threads(), before, "no worker thread for small checks");
      const pooled = await Promise.all([
        pool.check({ type: "exact" }, { path: join(dir, "big") }, Buffer.from(big)),
        pool.check({ type: "exact" }, { text: big }, Buffer.from(big.replace("7", "8"))),
        pool.check({ type: "tokens" }, { path: join(dir, "big") }, Buffer.from(big.replace("7 7", "7\n7"))),
        // A small output against a big answer, a big output against a small one: a worker too.
        pool.check({ type: "exact" }, { path: join(dir, "big") }, Buffer.from(small)),
        pool.check({ type: "tokens" }, { path: join(dir, "small") }, Buffer.from(big)),
      ]);
      assert.deepEqual(pooled, [true, false, true, false, false]);
      assert.ok(threads() > before, "big checks ran in a worker thread");
      await assert.rejects(pool.check({ type: "exact" }, { path: join(dir, "missing") }, Buffer.from(big)), /checker failed: ENOENT/);
      await assert.rejects(pool.check({ type: "custom", protocol: "testlib", language: "PYTHON", source: "" } as never, { text: "" }, Buffer.from("")), /checker failed/);
    } finally {
      await pool.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("case folding (caseSensitive: false, Kattis' default) and custom checkers", () => {
  it("tokens and float fold ASCII letters only when asked; exact never does; a custom checker never runs here", () => {
    assert.ok(checkTokens("Yes\nNO", "yes no", false));
    assert.ok(!checkTokens("Yes", "yes"));
    assert.ok(!checkTokens("straße", "STRASSE", false), "only ASCII letters fold");
    assert.ok(checkOutput({ type: "float", epsilon: 1e-3, caseSensitive: false }, "Answer 1.0005", "ANSWER 1.0"));
    assert.ok(!checkOutput({ type: "float", epsilon: 1e-3, caseSensitive: false }, "nan", "NaN"), "nan is never equal, folded or not");
    assert.ok(!checkOutput({ type: "exact", caseSensitive: false }, "Yes", "yes"));
    assert.throws(() => checkOutput({ type: "custom" }, "1", "1"), /runs in the sandbox/);
  });
});
