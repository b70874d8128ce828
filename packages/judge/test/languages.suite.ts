// Every language end to end, engine-agnostic: A+B accepted (under 256 MiB, no false MLE
// for JVM/Go/Node/Python, no compiler chatter), WA, CE, RE, TLE and MLE each detected,
// and the runtime's per-language fast paths (scripts/runtime/build-rootfs.sh) in use, and
// the rootfs's own Node.js (the official build, its @types/node, V8's out-of-memory line, threads).
// bwrap.languages.test.ts runs all of it; docker.languages.test.ts the toolchain cases.
// SONOCODE_TEST_ROOTFS / SONOCODE_TEST_IMAGE point the tests at another runtime.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { LANGUAGES, verdictSchema, type JudgeRequest, type Verdict } from "@sonocode/contracts";
import type { Judge } from "../src/index.js";
import { AB_TESTS, PROGRAMS } from "./solutions.js";

export interface LanguageSuiteOptions {
  engine: "bwrap" | "docker";
  makeJudge: () => Promise<Judge>;
  /** Only what depends on the runtime's toolchains (accepted, WA, CE, the fast paths), not RE/TLE/MLE. */
  toolchainsOnly?: boolean;
}

export function defineLanguageSuite(options: LanguageSuiteOptions): void {
  describe(`languages (${options.engine})`, () => {
    let judge: Judge;
    before(async () => {
      judge = await options.makeJudge();
    });
    after(() => judge?.close());

    const judged = async (request: JudgeRequest): Promise<Verdict> => {
      const verdict = await judge.judge(request);
      verdictSchema.parse(verdict);
      return verdict;
    };
    const run = (language: (typeof LANGUAGES)[number], kind: keyof (typeof PROGRAMS)["C"], extra: object = {}): Promise<Verdict> =>
      judged({ language, source: PROGRAMS[language][kind], tests: AB_TESTS, timeLimitMs: 1000, ...extra });

    for (const language of LANGUAGES) {
      describe(language, { concurrency: 2 }, () => {
        it("accepts A+B under 256 MiB, with nothing from the compiler", async () => {
          const progress: number[] = [];
          const v = await judge.judge(
            { language, source: PROGRAMS[language].ok, tests: AB_TESTS, memoryLimitMb: 256 },
            { onProgress: (p) => void progress.push(p.passed) },
          );
          assert.equal(v.status, "Success", JSON.stringify(v));
          assert.equal(v.passed, 3);
          assert.equal(v.total, 3);
          assert.deepEqual(progress, [1, 2, 3]);
          assert.equal(v.results.length, 3);
          assert.ok(v.memoryKb !== null && v.memoryKb > 0 && v.memoryKb < 256 * 1024);
          assert.equal(v.failedTest, null);
          assert.equal(v.compileOutput, null, "a clean compile prints nothing (no runtime or archive warning)");
        });
        it("WA with the failed test shown", async () => {
          const v = await run(language, "wa");
          assert.equal(v.status, "WA", JSON.stringify(v));
          assert.equal(v.results.length, 1, "stops at the first failing test");
          assert.equal(v.failedTest?.index, 0);
          assert.equal(v.failedTest?.expected, "3\n");
        });
        it("CE with compiler output", async () => {
          const v = await run(language, "ce");
          assert.equal(v.status, "CE", JSON.stringify(v));
          assert.ok((v.compileOutput ?? "").length > 0);
          assert.ok(!(v.compileOutput ?? "").includes("/sonocode-judge/"), "no host paths");
          assert.deepEqual(v.results, []);
        });
        if (options.toolchainsOnly) return;
        it("RE", async () => {
          const v = await run(language, "re");
          assert.equal(v.status, "RE", JSON.stringify(v));
          const r = v.results[0]!;
          assert.ok(r.signal !== undefined || (r.exitCode !== undefined && r.exitCode !== 0));
          assert.ok(v.message?.includes("Runtime error"));
        });
        it("TLE", async () => {
          const v = await run(language, "tle");
          assert.equal(v.status, "TLE", JSON.stringify(v));
        });
        it("MLE", async () => {
          const v = await run(language, "mle", { timeLimitMs: 5000 });
          assert.equal(v.status, "MLE", JSON.stringify(v));
        });
      });
    }

    describe("per-language fast paths", { concurrency: 2 }, () => {
      it("a Java program without a class Main is CE, not RE on every test", async () => {
        const v = await judged({
          language: "JAVA",
          source: "import java.util.*;\nclass Solution { public static void main(String[] a) { System.out.println(3); } }",
          tests: AB_TESTS,
        });
        assert.equal(v.status, "CE", JSON.stringify(v));
        assert.match(v.message ?? "", /class named Main/);
        assert.equal(v.compileOutput, "no class named Main: the class with main() must be called Main");
        assert.deepEqual(v.results, []);
      });
      it("Java runs on the rootfs's class-data-sharing archive", async () => {
        // java.vm.info says "sharing" only when the archive named by the registry mapped (no silent fallback).
        const v = await judged({
          language: "JAVA",
          source: 'public class Main { public static void main(String[] a) { System.out.println(System.getProperty("java.vm.info").contains("sharing")); } }',
          tests: [{ input: "", output: "true\n" }],
        });
        assert.equal(v.status, "Success", JSON.stringify(v));
      });
      it("Go: a program importing net/http and os/user links against the precompiled CGO_ENABLED=0 std", async () => {
        const v = await judged({
          language: "GO",
          source: 'package main\nimport ("fmt"; "net/http"; "os/user"; "sort")\nfunc main(){ _, err := user.Current(); s := []int{3, 1, 2}; sort.Ints(s); fmt.Println(http.StatusOK, s, err == nil || err != nil) }',
          tests: [{ input: "", output: "200 [1 2 3] true\n" }],
        });
        assert.equal(v.status, "Success", JSON.stringify(v));
      });
      it("Go compile errors name the file as go build does", async () => {
        const v = await run("GO", "ce");
        assert.match(v.compileOutput ?? "", /^\.\/main\.go:2:\d+: x declared but not used/m);
      });
      it("C++: a <bits/stdc++.h> program through the precompiled header", async () => {
        // Where it cannot apply (e.g. NDEBUG defined first) g++ silently reads the header itself: that was
        // checked once (Success, no compiler output) but costs ~5x the compile time, so it is not run here.
        const source = "#include <bits/stdc++.h>\nusing namespace std;\nint main(){long long a,b;cin>>a>>b;vector<long long> v{a,b};cout<<accumulate(v.begin(),v.end(),0LL)<<'\\n';}";
        const v = await judged({ language: "CPP", source, tests: AB_TESTS });
        assert.equal(v.status, "Success", JSON.stringify(v));
        assert.equal(v.compileOutput, null);
      });
      it("Python: syntax errors read as py_compile wrote them", async () => {
        const syntax = await run("PYTHON", "ce");
        assert.equal(syntax.compileOutput, '  File "/box/main.py", line 1\n    def broken(:\n               ^\nSyntaxError: invalid syntax\n');
        const nul = await judged({ language: "PYTHON", source: 'x = "\0"\n', tests: AB_TESTS });
        assert.equal(nul.status, "CE");
        assert.equal(nul.compileOutput, "Sorry: ValueError: source code string cannot contain null bytes");
      });
      it("TypeScript: type errors are CE, non-strict code as before (tsc 4.8's defaults)", async () => {
        const ce = await judged({ language: "TYPESCRIPT", source: PROGRAMS.TYPESCRIPT.ce, tests: AB_TESTS });
        assert.match(ce.compileOutput ?? "", /error TS2322: Type 'string' is not assignable to type 'number'/);
        const loose = await judged({
          language: "TYPESCRIPT",
          source: 'function twice(x) { return x * 2; }\nlet y;\ny = twice(21);\nconsole.log(y);',
          tests: [{ input: "", output: "42\n" }],
        });
        assert.equal(loose.status, "Success", JSON.stringify(loose));
      });
    });

    describe("Node.js (JavaScript, TypeScript)", { concurrency: 2 }, () => {
      it("runs the official build with V8's startup snapshot (Debian's node lacks it: ~3x slower to start)", async () => {
        const v = await judged({
          language: "JAVASCRIPT",
          source: "console.log(process.config.variables.node_use_node_snapshot, process.release.lts !== undefined);",
          tests: [{ input: "", output: "true true\n" }],
        });
        assert.equal(v.status, "Success", JSON.stringify(v));
      });
      it("TypeScript checks against the declarations of the Node.js it runs on", async () => {
        // process.getBuiltinModule is Node 22.3+: an older @types/node fails the compile (CE), an older node the run (RE).
        const v = await judged({
          language: "TYPESCRIPT",
          source: 'const fs = process.getBuiltinModule("node:fs");\nconsole.log(typeof fs.readFileSync);',
          tests: [{ input: "", output: "function\n" }],
        });
        assert.equal(v.status, "Success", JSON.stringify(v));
        assert.equal(v.compileOutput, null);
      });
      it("a recursion 100,000 calls deep is not an RE (a stack like Java's), in both languages; deeper than the stack is RE", async () => {
        // V8's default stack (~1 MiB) ends near 10,000 frames: a DFS over 10^5 nodes was RE.
        const deep = (depth: number) => `function depth(n) { return n === 0 ? 0 : depth(n - 1) + 1; }\nconsole.log(depth(${depth}));`;
        for (const language of ["JAVASCRIPT", "TYPESCRIPT"] as const) {
          const v = await judged({ language, source: deep(100_000), tests: [{ input: "", output: "100000\n" }], memoryLimitMb: 256 });
          assert.equal(v.status, "Success", `${language} ${JSON.stringify(v)}`);
        }
        // Deeper than the 64 MiB: V8's RangeError (RE), the stack kept below the rlimit (no crash of the runtime).
        const tooDeep = await judged({ language: "JAVASCRIPT", source: deep(10_000_000), tests: [{ input: "", output: "0\n" }], memoryLimitMb: 256 });
        assert.equal(tooDeep.status, "RE", JSON.stringify(tooDeep));
        assert.equal(tooDeep.results[0]?.signal, undefined, "V8's own RangeError, not a SIGSEGV past the real stack");
      });
      it("an ArrayBuffer V8 refuses up front is MLE, though the cgroup limit is never reached", async () => {
        const v = await judged({ language: "JAVASCRIPT", source: "const b = new ArrayBuffer(2 ** 40);\nconsole.log(b.byteLength);", tests: AB_TESTS });
        assert.equal(v.status, "MLE", JSON.stringify(v));
      });
      it("the libuv threadpool and a worker thread fit the pids limit", async () => {
        // More parallel pbkdf2 calls than the pool's 4 threads, async fs, and one worker_threads Worker.
        const source = [
          'const crypto = require("crypto"), fs = require("fs"), { Worker } = require("worker_threads");',
          'const hashes = Array.from({ length: 6 }, () => new Promise((ok, ko) => crypto.pbkdf2("pw", "salt", 2000, 32, "sha256", (e, k) => (e ? ko(e) : ok(k.length)))));',
          'const worker = new Promise((ok, ko) => { const w = new Worker("require(\\"worker_threads\\").parentPort.postMessage(21 * 2)", { eval: true }); w.on("message", ok); w.on("error", ko); });',
          "Promise.all([...hashes, fs.promises.readFile(__filename), worker]).then((r) => console.log(r.slice(0, 6).join(), r[7]));",
        ].join("\n");
        const v = await judged({ language: "JAVASCRIPT", source, tests: [{ input: "", output: "32,32,32,32,32,32 42\n" }], timeLimitMs: 5000 });
        assert.equal(v.status, "Success", JSON.stringify(v));
      });
    });
  });
}
