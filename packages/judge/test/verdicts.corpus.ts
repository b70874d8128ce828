// Verdict corpus, engine-agnostic: the cases issue 7 found judged wrong, and the rules
// that fix them (verdicts from facts, storable text, runtime OOM = MLE, hidden tests
// reveal nothing but status, time and memory, tests from files). bwrap.verdicts.test.ts
// and docker.verdicts.test.ts run the very same table, so both engines judge alike.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isStorableText, verdictSchema, type JudgeRequest, type Verdict } from "@sonocode/contracts";
import type { Judge } from "../src/index.js";

export interface VerdictCase {
  name: string;
  request: (dir: string) => JudgeRequest | Promise<JudgeRequest>;
  check: (verdict: Verdict) => void;
}

function assertStatus(verdict: Verdict, allowed: Verdict["status"][]): void {
  assert.ok(allowed.includes(verdict.status), `expected ${allowed.join("/")}, got ${verdict.status}: ${verdict.message ?? ""} ${JSON.stringify(verdict.failedTest ?? verdict.compileOutput)?.slice(0, 600)}`);
}

const ONE = [{ input: "", output: "ok\n" }];
const MLE = (language: JudgeRequest["language"], source: string): VerdictCase => ({
  name: `${language}: the runtime's own out-of-memory is MLE`,
  request: () => ({ language, source, tests: ONE, memoryLimitMb: 128, timeLimitMs: 3000 }),
  check: (v) => {
    assertStatus(v, ["MLE"]);
    assert.match(v.message ?? "", /Memory limit exceeded on test 1/);
  },
});

export const VERDICT_CASES: VerdictCase[] = [
  {
    name: "NUL bytes in program output become visible, storable text",
    request: () => ({ language: "PYTHON", source: "import sys\nsys.stdout.write('a\\0b\\n')", tests: [{ input: "", output: "ab\n" }] }),
    check: (v) => {
      assertStatus(v, ["WA"]);
      assert.equal(v.failedTest?.actual, "a\u2400b\n");
    },
  },
  {
    name: "emoji cut at the display cap: no split surrogate pair",
    request: () => ({ language: "PYTHON", source: "print('\\U0001F600' * 5000)", tests: [{ input: "", output: "no\n" }] }),
    check: (v) => {
      assertStatus(v, ["WA"]);
      const actual = v.failedTest?.actual ?? "";
      assert.ok(isStorableText(actual));
      assert.ok(actual.startsWith("😀".repeat(4096)), "whole emoji up to the cap");
      assert.match(actual, /truncated/);
    },
  },
  {
    name: "invalid UTF-8 in program output is replaced, not refused",
    request: () => ({ language: "PYTHON", source: "import sys\nsys.stdout.buffer.write(b'x\\xff\\xf0\\x9f\\n')", tests: [{ input: "", output: "y\n" }] }),
    check: (v) => {
      assertStatus(v, ["WA"]);
      assert.ok(isStorableText(v.failedTest?.actual ?? ""));
      assert.ok(v.failedTest?.actual.startsWith("x\uFFFD"));
    },
  },
  {
    name: "NUL in compiler output (a NUL in the source) is storable",
    request: () => ({ language: "C", source: 'int main(void){ return "\0" + ; }\n', tests: ONE }),
    check: (v) => {
      assertStatus(v, ["CE"]);
      assert.ok((v.compileOutput ?? "").length > 0);
      assert.ok(isStorableText(v.compileOutput ?? ""), JSON.stringify(v.compileOutput));
    },
  },
  MLE("JAVA", "public class Main{public static void main(String[] a){long[] x=new long[Integer.MAX_VALUE-16];System.out.println(x.length);}}"),
  MLE("GO", 'package main\nimport "fmt"\nfunc main(){x:=make([]byte,1<<44);fmt.Println(len(x))}'),
  MLE("JAVASCRIPT", "const a=[];for(;;)a.push(new Array(1e6).fill(1.5));"),
  MLE("PYTHON", "x = [0] * (10 ** 11)\nprint(len(x))"),
  // The pointer is printed: g++ -O2 may elide an allocation whose address never escapes.
  MLE("CPP", "#include <cstdio>\nint main(){volatile int k=44;char*p=new char[1ull<<k];p[0]=1;std::printf(\"%p\\n\",(void*)p);}"),
  MLE("RUST", "fn main(){let v:Vec<u8>=vec![1u8;1usize<<44];println!(\"{}\",v[7]);}"),
  {
    name: "a self-raised SIGXCPU after 0 ms is RE, not TLE",
    request: () => ({ language: "C", source: "#include <signal.h>\nint main(void){raise(SIGXCPU);return 0;}", tests: ONE }),
    check: (v) => {
      assertStatus(v, ["RE"]);
      assert.equal(v.results[0]?.signal, "SIGXCPU");
    },
  },
  {
    name: "a contained JVM thread bomb is not WA: JVM warnings never reach stdout",
    request: () => ({
      language: "JAVA",
      source: [
        "public class Main{public static void main(String[] a){",
        "  int started=0;",
        "  for(int i=0;i<500;i++){",
        "    try{Thread t=new Thread(()->{try{Thread.sleep(60000);}catch(InterruptedException e){}});t.setDaemon(true);t.start();started++;}",
        "    catch(Throwable e){break;}",
        "  }",
        '  System.out.println("ok");System.exit(0);',
        "}}",
      ].join("\n"),
      tests: ONE,
      timeLimitMs: 3000,
    }),
    check: (v) => {
      assert.notEqual(v.status, "WA", `JVM output on stdout: ${v.failedTest?.actual.slice(0, 300)}`);
      assertStatus(v, ["Success", "RE"]);
    },
  },
  {
    name: "a hidden test reveals only status, time and memory: no exit code, signal or detail",
    request: () => ({
      language: "PYTHON",
      source: "import sys\nsys.exit(int(input()))",
      tests: [
        { input: "0\n", output: "", hidden: false },
        { input: "42\n", output: "", hidden: true },
      ],
    }),
    check: (v) => {
      assertStatus(v, ["RE"]);
      const r = v.results[1]!;
      assert.equal(r.index, 1);
      assert.equal(r.status, "RE");
      assert.equal(r.exitCode, undefined);
      assert.equal(r.signal, undefined);
      assert.equal(v.failedTest, null);
      assert.equal(v.message, "Runtime error on test 2");
      // Measured numbers are left out: a time or memory figure may contain the digits (9428 KB).
      const texts = JSON.stringify(v, (_key, value: unknown) => (typeof value === "number" ? 0 : value));
      assert.ok(!texts.includes("42"), `nothing of the hidden input leaks: ${texts}`);
    },
  },
  {
    name: "a visible test keeps its runtime error details",
    request: () => ({ language: "PYTHON", source: "import sys\nsys.exit(int(input()))", tests: [{ input: "42\n", output: "" }] }),
    check: (v) => {
      assertStatus(v, ["RE"]);
      assert.equal(v.results[0]?.exitCode, 42);
      assert.equal(v.message, "Runtime error on test 1: exit code 42");
    },
  },
  {
    name: "tests from files: input streamed to stdin, answer read by the checker, visible failure shown from the file head",
    request: async (dir) => {
      const lines = 200_000;
      await writeFile(join(dir, "big.in"), `${lines}\n${"1\n".repeat(lines)}`);
      await writeFile(join(dir, "big.out"), `${lines}\n`);
      await writeFile(join(dir, "small.in"), "5\n1\n1\n1\n1\n1\n");
      await writeFile(join(dir, "wrong.out"), "6\n");
      return {
        language: "PYTHON",
        source: "import sys\nn = int(sys.stdin.readline())\nprint(sum(int(x) for x in sys.stdin.read().split()))",
        tests: [
          { inputFile: join(dir, "big.in"), outputFile: join(dir, "big.out"), hidden: true },
          { inputFile: join(dir, "small.in"), outputFile: join(dir, "wrong.out") },
        ],
        runAllTests: true,
      };
    },
    check: (v) => {
      assertStatus(v, ["WA"]);
      assert.equal(v.results[0]?.status, "Success");
      assert.equal(v.results[1]?.status, "WA");
      assert.deepEqual(v.failedTest, { index: 1, input: "5\n1\n1\n1\n1\n1\n", expected: "6\n", actual: "5\n" });
    },
  },
];

export interface VerdictSuiteOptions {
  engine: "bwrap" | "docker";
  makeJudge: () => Promise<Judge>;
}

/** Registers the verdict corpus with node:test for one engine. */
export function defineVerdictSuite(options: VerdictSuiteOptions): void {
  describe(`verdict corpus (${options.engine})`, { concurrency: 2 }, () => {
    let judge: Judge;
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), "sonocode-verdicts-"));
      judge = await options.makeJudge();
      assert.equal(judge.engine, options.engine);
    });
    after(async () => {
      await judge?.close();
      await rm(dir, { recursive: true, force: true });
    });
    for (const [index, c] of VERDICT_CASES.entries()) {
      it(c.name, async () => {
        const caseDir = join(dir, String(index));
        await mkdir(caseDir);
        const verdict = await judge.judge(await c.request(caseDir));
        verdictSchema.parse(verdict);
        c.check(verdict);
      });
    }
  });
}
