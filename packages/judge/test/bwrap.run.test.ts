// "Run code" mode judged for real on the bwrap engine (needs root, bwrap and the runtime rootfs):
// outputs returned for every test (no early stop), answers from files or from the reference
// solution, expected null without one, the problem's checker applied, texts capped at 64 KiB.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { RUN_TEXT_CAP_BYTES } from "@sonocode/contracts";
import { capRunText, createBwrapEngine, createJudgeWithEngine, DEFAULT_ROOTFS, type Judge } from "../src/index.js";

const rootfs = process.env.SONOCODE_TEST_ROOTFS || DEFAULT_ROOTFS;

const SUM = "a, b = map(int, input().split())\nprint(a + b)\n";
const DIFF = "a, b = map(int, input().split())\nprint(a - b)\n";
const LIMITS = { timeLimitMs: 2_000, memoryLimitMb: 256 } as const;

describe("judge.run (bwrap)", () => {
  let judge: Judge;
  let dir: string;
  let files: { inputFile: string; outputFile: string }[];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "sonocode-run-test-"));
    const engine = createBwrapEngine({ rootfs });
    await engine.check();
    judge = createJudgeWithEngine(engine, { maxConcurrency: 1, checkerCacheDir: join(dir, "checkers") });
    files = [];
    for (const [i, [input, output]] of [["1 2\n", "3\n"], ["5 7\n", "12\n"]].entries()) {
      const inputFile = join(dir, `${i}.in`);
      const outputFile = join(dir, `${i}.out`);
      await writeFile(inputFile, input!);
      await writeFile(outputFile, output!);
      files.push({ inputFile, outputFile });
    }
  });
  after(async () => {
    await judge?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("runs every file test, showing input, output and expected, and keeps going after a wrong answer", async () => {
    const ok = await judge.run({ language: "PYTHON", source: SUM, tests: files, ...LIMITS, checker: { type: "tokens" } });
    assert.equal(ok.status, "Success");
    assert.equal(ok.compileOutput, null);
    assert.deepEqual(
      ok.results.map(({ index, input, output, expected, status }) => ({ index, input, output, expected, status })),
      [
        { index: 0, input: "1 2\n", output: "3\n", expected: "3\n", status: "Success" },
        { index: 1, input: "5 7\n", output: "12\n", expected: "12\n", status: "Success" },
      ],
    );
    assert.ok(ok.results.every((r) => r.timeMs >= 0 && r.memoryKb > 0));

    const wrong = await judge.run({ language: "PYTHON", source: DIFF, tests: files, ...LIMITS, checker: { type: "tokens" } });
    assert.equal(wrong.status, "WA");
    // No early stop: both tests ran and both outputs are there.
    assert.deepEqual(wrong.results.map((r) => [r.output, r.status]), [["-1\n", "WA"], ["-2\n", "WA"]]);
  });

  it("custom input with a reference solution: expected is the reference's output, compared with the checker", async () => {
    const reference = { language: "PYTHON" as const, source: SUM, ...LIMITS };
    const wrong = await judge.run({ language: "PYTHON", source: DIFF, tests: [{ input: "10 4\n", output: null }], ...LIMITS, checker: { type: "tokens" }, reference });
    assert.equal(wrong.status, "WA");
    assert.deepEqual(wrong.results.map(({ input, output, expected, status }) => ({ input, output, expected, status })), [{ input: "10 4\n", output: "6\n", expected: "14\n", status: "WA" }]);

    // The tokens checker ignores the extra whitespace the reference does not print.
    const right = await judge.run({ language: "PYTHON", source: "a, b = map(int, input().split())\nprint('  ', a + b, '  ')\n", tests: [{ input: "10 4\n", output: null }], ...LIMITS, checker: { type: "tokens" }, reference });
    assert.equal(right.status, "Success");
    assert.equal(right.results[0]!.expected, "14\n");
    assert.equal(right.message, null);

    // A reference in another language, compiled in a session of its own.
    const cpp = { language: "CPP" as const, source: "#include <iostream>\nint main(){long long a,b;std::cin>>a>>b;std::cout<<a+b<<std::endl;}\n", ...LIMITS };
    const viaCpp = await judge.run({ language: "PYTHON", source: SUM, tests: [{ input: "2 2\n", output: null }], ...LIMITS, checker: { type: "exact" }, reference: cpp });
    assert.equal(viaCpp.status, "Success");
    assert.equal(viaCpp.results[0]!.expected, "4\n");
  });

  it("the problem's custom checker (testlib) decides a custom input against the reference, and its message is shown", async () => {
    // Accepts any answer of the right parity; says what it compared on stderr.
    const parity = `#include <stdio.h>
int main(int argc, char **argv) {
  FILE *out = fopen(argv[2], "r"), *ans = fopen(argv[3], "r");
  long got, want;
  if (!out || !ans || fscanf(ans, "%ld", &want) != 1) return 3;
  if (fscanf(out, "%ld", &got) != 1) { fprintf(stderr, "no number"); return 2; }
  fprintf(stderr, "got %ld, want the parity of %ld", got, want);
  return (got - want) % 2 == 0 ? 0 : 1;
}
`;
    const checker = { type: "custom" as const, protocol: "testlib" as const, language: "C" as const, source: parity };
    const reference = { language: "PYTHON" as const, source: SUM, ...LIMITS };
    // 10 - 4 = 6 and 10 + 4 = 14 have the same parity: accepted by this checker, with its message.
    const run = await judge.run({ language: "PYTHON", source: DIFF, tests: [{ input: "10 4\n", output: null }], ...LIMITS, checker, reference });
    assert.equal(run.status, "Success", JSON.stringify(run));
    assert.equal(run.results[0]!.expected, "14\n");
    assert.equal(run.results[0]!.checkerMessage, "got 6, want the parity of 14");
    const odd = await judge.run({ language: "PYTHON", source: "print(7)\n", tests: [{ input: "10 4\n", output: null }], ...LIMITS, checker, reference });
    assert.equal(odd.status, "WA");
  });

  it("custom input without a reference solution: expected is null and a clean exit is Success", async () => {
    const run = await judge.run({ language: "PYTHON", source: DIFF, tests: [{ input: "10 4\n", output: null }], ...LIMITS, checker: { type: "exact" } });
    assert.equal(run.status, "Success");
    assert.deepEqual(run.results.map(({ output, expected, status }) => ({ output, expected, status })), [{ output: "6\n", expected: null, status: "Success" }]);

    const crash = await judge.run({ language: "PYTHON", source: "import sys\nprint('partial')\nsys.exit(3)\n", tests: [{ input: "", output: null }], ...LIMITS, checker: { type: "exact" } });
    assert.equal(crash.status, "RE");
    assert.equal(crash.results[0]!.output, "partial\n");
    assert.match(crash.message ?? "", /exit code 3/);
  });

  it("a reference that fails on the input leaves expected null and says why, without its output", async () => {
    const reference = { language: "PYTHON" as const, source: "import sys\nn = int(input())\nif n < 0:\n    sys.exit(1)\nprint(n)\n", ...LIMITS };
    const run = await judge.run({ language: "PYTHON", source: "print(int(input()))\n", tests: [{ input: "-5\n", output: null }], ...LIMITS, checker: { type: "exact" }, reference });
    assert.equal(run.status, "Success");
    assert.equal(run.results[0]!.expected, null);
    assert.match(run.message ?? "", /reference solution ended with RE/);
  });

  it("a compile error is CE with the compiler's output and no results", async () => {
    const run = await judge.run({ language: "C", source: "int main( { return 0; }\n", tests: [{ input: "", output: null }], ...LIMITS, checker: { type: "exact" } });
    assert.equal(run.status, "CE");
    assert.deepEqual(run.results, []);
    assert.match(run.compileOutput ?? "", /error/);
  });

  it("outputs are cut to 64 KiB and made storable (NUL shown as U+2400)", async () => {
    const run = await judge.run({ language: "PYTHON", source: "import sys\nsys.stdout.write('\\0' + 'x' * 200000)\n", tests: [{ input: "", output: null }], ...LIMITS, checker: { type: "exact" } });
    const output = run.results[0]!.output;
    assert.ok(Buffer.byteLength(output) <= RUN_TEXT_CAP_BYTES, `${Buffer.byteLength(output)} bytes`);
    assert.ok(output.startsWith("\u2400xxx"));
    assert.match(output, /truncated, 200001 bytes in all/);
  });
});

describe("capRunText", () => {
  it("never splits a UTF-8 sequence and keeps short texts as they are", () => {
    assert.equal(capRunText("héllo"), "héllo");
    const long = "é".repeat(RUN_TEXT_CAP_BYTES);
    const cut = capRunText(long);
    assert.ok(Buffer.byteLength(cut) <= RUN_TEXT_CAP_BYTES);
    assert.ok(!cut.includes("\uFFFD"));
    assert.match(cut, new RegExp(`truncated, ${2 * RUN_TEXT_CAP_BYTES} bytes in all`));
  });
});
