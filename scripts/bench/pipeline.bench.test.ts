// The pipeline benchmark's own logic: the native side runs exactly the judge's argv in the
// sandbox's environment, the goals flip at issue 9's thresholds, the tables and the JSON
// agree, and the native runner leaves no mount or directory behind. No speed is asserted.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { LANGUAGES } from "@sonocode/contracts";
import { LANGUAGE_REGISTRY } from "@sonocode/judge";
import { RUNTIME_ROOTFS } from "@sonocode/testkit";
import { PROGRAMS } from "../../packages/judge/test/solutions.js";
import { breakdown, breakdownTable } from "./breakdown.js";
import { cpuPerSubmission, processTimes } from "./process-cpu.js";
import { CHROOT, chrootArgv, nativePlan, sameAnswer, SANDBOX_BASE_ENV } from "./native.plan.js";
import { runnerArgv, startNativeRunner } from "./native.js";
import type { Machine } from "./machine.js";
import {
  burstVerdict,
  GOALS,
  ingestVerdict,
  languageVerdict,
  markdownTable,
  median,
  percentile,
  perTestWallMs,
  ratio,
  renderReport,
  summaryTable,
  type BurstFigures,
  type IngestFigures,
  type LanguageFigures,
  type PipelineReport,
} from "./report.js";

function figures(overrides: Partial<LanguageFigures>): LanguageFigures {
  return { language: "C", tests: 10, latencyMs: [130], postMs: [5], nativeMs: [100], nativeCompileMs: [40], reportedTimeMs: [20], reportedWallMs: [30], statuses: { Success: 1 }, ...overrides };
}

const MACHINE: Machine = { cpuModel: "cpu", cpus: 2, usableCores: 2, memoryGiB: 4, kernel: "6.1", cgroup: "v1", node: "v20", commit: "abc", loadStart: [0.1, 0.2, 0.3] };
const BURST: BurstFigures = { slots: null, submissions: 100, seconds: 10, postSeconds: 1, perSecond: 10, nativeSerialPerSecond: 6.25, usableCores: 2, targetPerSecond: 10, statuses: { Success: 100 }, duplicateFinalEvents: 0, reportedMs: [{ language: "C", cpuMs: 12, wallMs: 20 }, { language: "PYTHON", cpuMs: 150, wallMs: null }] };
const INGEST: IngestFigures = { inFlight: 32, seconds: 10, accepted: 20_000, perSecond: 2_000, p50Ms: 10, p99Ms: 50, maxMs: 80, statuses: { "201": 20_000 }, redisGrowthBytesPerAccepted: 1500 };

describe("native plan", () => {
  test("is the judge's own compile and run argv, with the sandbox's environment, for every language", () => {
    for (const language of LANGUAGES) {
      const spec = LANGUAGE_REGISTRY[language];
      const plan = nativePlan(language, 256);
      assert.deepEqual(plan.compile, spec.compile === null ? null : [...spec.compile], language);
      assert.deepEqual(plan.run, [...spec.run({ memoryLimitMb: 256 })], language);
      assert.equal(plan.sourcePath, `/box/${spec.sourceFile}`);
      assert.deepEqual(plan.env, { ...SANDBOX_BASE_ENV, ...(spec.env ?? {}) });
    }
    assert.ok(nativePlan("JAVA", 128).run.includes("-Xmx128m"), "heap flags follow the memory limit, as in the sandbox");
    assert.equal(nativePlan("GO", 256).env.GOCACHE, LANGUAGE_REGISTRY.GO.env?.GOCACHE);
  });

  test("chroot execs the program directly (no shell) and the runner gets a private mount namespace", () => {
    assert.deepEqual(chrootArgv("/tmp/r", ["/box/main", "a b"]), [CHROOT, ["/tmp/r", "/usr/bin/env", "--chdir=/box", "/box/main", "a b"]]);
    assert.throws(() => chrootArgv("/tmp/r", []));
    const [command, args] = runnerArgv("/repo", "/rootfs");
    assert.equal(command, "unshare");
    assert.deepEqual(args.slice(0, 4), ["--mount", "--propagation", "private", "--"]);
    assert.deepEqual(args.slice(-2), ["/repo/scripts/bench/native.runner.ts", "/rootfs"]);
  });

  test("answers compare like the exact checker: trailing spaces, CRLF and trailing blank lines ignored", () => {
    assert.ok(sameAnswer("12  \r\n\n\n", "12\n"));
    assert.ok(sameAnswer("1\n2", "1 \n2\n"));
    assert.equal(sameAnswer("12\n", "21\n"), false);
    assert.equal(sameAnswer("1\n\n2\n", "1\n2\n"), false);
  });
});

describe("figures and goals", () => {
  test("median and percentile", () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.ok(Number.isNaN(median([])));
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
    assert.equal(percentile(hundred, 50), 50);
    assert.equal(percentile(hundred, 99), 99);
    assert.equal(percentile([7], 99), 7);
  });

  test("the latency goal holds at exactly 1.3x native and fails just above; TypeScript also needs <= 1.5 s", () => {
    assert.equal(ratio(figures({ latencyMs: [120, 130, 500], nativeMs: [100] })), 1.3);
    assert.equal(languageVerdict(figures({ latencyMs: [130], nativeMs: [100] })), "pass");
    assert.equal(languageVerdict(figures({ latencyMs: [131], nativeMs: [100] })), "FAIL");
    assert.equal(languageVerdict(figures({ language: "TYPESCRIPT", latencyMs: [1_600], nativeMs: [1_500] })), "FAIL");
    assert.equal(languageVerdict(figures({ language: "TYPESCRIPT", latencyMs: [1_400], nativeMs: [1_200] })), "pass");
  });

  test("per-test wall time uses wallTimeMs when reported, else timeMs", () => {
    assert.equal(perTestWallMs(figures({ reportedWallMs: [30, 50, 40], reportedTimeMs: [1] })), 4);
    assert.equal(perTestWallMs(figures({ reportedWallMs: [], reportedTimeMs: [20] })), 2);
  });

  test("burst and ingest goals flip at their thresholds", () => {
    assert.equal(burstVerdict(BURST), "pass");
    assert.equal(burstVerdict({ ...BURST, perSecond: 9.99 }), "FAIL");
    // Fewer slots than usable cores: the scaling row, no goal; as many slots as cores: the goal.
    assert.equal(burstVerdict({ ...BURST, slots: 1, perSecond: 5 }), "—");
    assert.equal(burstVerdict({ ...BURST, slots: 2, perSecond: 9.99 }), "FAIL");
    assert.equal(ingestVerdict(INGEST), "pass");
    assert.equal(ingestVerdict({ ...INGEST, perSecond: GOALS.ingestPerSecond - 1 }), "FAIL");
    assert.equal(ingestVerdict({ ...INGEST, p99Ms: GOALS.ingestP99Ms + 0.1 }), "FAIL");
  });

  test("markdown tables are aligned, one separator line, cells padded to the widest", () => {
    const table = markdownTable(["a", "long header"], [["wide cell", "x"], ["y"]]).split("\n");
    assert.deepEqual(table, ["| a         | long header |", "|-----------|-------------|", "| wide cell | x           |", "| y         |             |"]);
  });

  test("the summary has a row per measured figure, and the --json file reprints the same report", () => {
    const report: PipelineReport = {
      startedAt: "s",
      finishedAt: "f",
      machine: MACHINE,
      options: { runs: 3, warmup: 1, rootfs: "/rootfs" },
      platformEnv: {},
      nativeExecFloorMs: 1,
      languages: [figures({}), figures({ language: "TYPESCRIPT", latencyMs: [3_000], nativeMs: [2_900] })],
      bursts: [BURST, { ...BURST, slots: 2, perSecond: 5 }],
      ingest: INGEST,
      errors: [],
      redis: { samples: 3, medianBytes: 1200, minBytes: 1100, maxBytes: 1300, keys: [{ pattern: "p:SubmissionQueue:{id}", medianBytes: 1200 }] },
    };
    const summary = summaryTable(report);
    assert.match(summary, /reported wall time per test, trivial C +\| 3\.0 ms +\| ≤ 3 ms +\| pass/);
    assert.match(summary, /TypeScript absolute .*\| 3\.00 s .*\| FAIL/);
    assert.match(summary, /burst of 100 C \+ Python submissions +\| 10\.00\/s .*target 10\.00\/s.*\| pass/);
    assert.match(summary, /burst of 100 C \+ Python submissions, EVALUATOR_CONCURRENCY 2 +\| 5\.00\/s .*\| FAIL/);
    assert.match(summary, /Σ test time C 12\.0 ms \/ 20\.0 ms, PYTHON 150 ms \/ n\/a\)/);
    assert.match(summary, /2000\/s, p50 10\.0 ms, p99 50\.0 ms/);
    assert.match(summary, /1200 B median of 3 .*p:SubmissionQueue:\{id\} 1200 B/);
    const printed = renderReport(report);
    assert.ok(printed.includes(summary) && printed.includes("| TYPESCRIPT |"));
    assert.equal(renderReport(JSON.parse(JSON.stringify(report)) as PipelineReport), printed, "--from-json reprints the run exactly");
    assert.equal(summaryTable({ ...report, languages: [], bursts: [], ingest: null, redis: null }).split("\n").length, 2, "header only");
  });
});

describe("stage breakdown and CPU accounting", () => {
  const line = (fields: Record<string, unknown>) => JSON.stringify({ level: 30, time: "t", ...fields });
  const id = "6b0fb84e628954100bdcfbe7";
  const log = [
    "not json",
    line({ msg: "judging", submissionId: id }),
    line({ msg: "judged", submissionId: id, stages: { queuedMs: 1, testSetMs: 2, slotWaitMs: 0.5, openMs: 0.5, compileMs: 40, testsMs: 20, judgeMs: 62, progressFinishMs: 0, lockMs: 1, publishMs: 1 }, pickedUpAt: 1_010, publishedAt: 1_077 }),
    line({ msg: "submission finalized", submissionId: id, stages: { queuedMs: 2, finalizeMs: 5, notifyMs: 1 }, notifiedAt: 1_086 }),
    // Another submission's lines are ignored.
    line({ msg: "judged", submissionId: "6b0fb84e628954100bdcfbe8", stages: { queuedMs: 1 }, pickedUpAt: 1, publishedAt: 2 }),
  ].join("\n");

  test("the rows without 'of which' add up to POST → final event, from the client's clock and the log's stamps", () => {
    const result = breakdown("C", [{ submissionId: id, sentAt: 1_000, acceptedAt: 1_006, finalAt: 1_087 }], log);
    assert.equal(result.samples, 1);
    assert.equal(result.totalMs, 87);
    const ms = Object.fromEntries(result.stages.map((s) => [s.stage, s.ms]));
    assert.equal(ms["POST → evaluator picks the job"], 10);
    assert.equal(ms["  of which: POST → 201"], 6);
    assert.equal(ms["judge, other (checker set-up, scoring)"], 1);
    assert.equal(ms["evaluator, other (parse, logs, event loop)"], 1);
    assert.equal(ms["consumer, other"], 1);
    assert.equal(ms["notified → client has the event (socket-service)"], 1);
    const additive = result.stages.filter((s) => !s.stage.includes("of which")).reduce((sum, s) => sum + s.ms, 0);
    assert.equal(additive, 87);
    assert.match(breakdownTable([result]), /\| POST → final event +\| 87\.0 ms \|/);
    assert.equal(breakdown("C", [{ submissionId: "6b0fb84e628954100bdcfbe9", sentAt: 0, acceptedAt: 1, finalAt: 2 }], log).samples, 0, "no lines, no sample");
  });

  test("CPU of a process and its reaped children from /proc, per submission", async () => {
    const before = processTimes(process.pid);
    assert.ok(before && before.ownMs >= 0 && before.childrenMs >= 0);
    const spin = Date.now() + 60;
    while (Date.now() < spin) Math.sqrt(Math.random());
    spawnSync("sh", ["-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done"]);
    const after = processTimes(process.pid)!;
    assert.ok(after.ownMs > before.ownMs, "our own CPU grew");
    assert.ok(after.childrenMs > before.childrenMs, "the reaped child's CPU is counted");
    const sample = (launcher: number, evaluator: number) => ({ launcher: { ownMs: launcher, childrenMs: 0 }, evaluator: { ownMs: evaluator, childrenMs: evaluator * 2 }, redis: null, machine: { busyMs: launcher + evaluator, totalMs: 1_000 } });
    const per = cpuPerSubmission(sample(100, 50), sample(300, 150), 10);
    assert.deepEqual(per, { launcherMs: 20, evaluatorMs: 10, sandboxesMs: 20, redisMs: null, machineBusyMs: 30, machineCapacityMs: 0 });
    assert.equal(processTimes(2 ** 22 + 1), null, "a pid that does not exist");
  });
});

const canRunNative = process.getuid?.() === 0 && existsSync(`${RUNTIME_ROOTFS}/usr/bin/gcc`);

describe("native runner", { skip: canRunNative ? false : "needs root and the runtime rootfs" }, () => {
  test("compiles and runs C by chroot, refuses a wrong answer, and leaves no mount or directory behind", async () => {
    const runner = await startNativeRunner({ repoRoot: new URL("../..", import.meta.url).pathname, rootfs: RUNTIME_ROOTFS });
    try {
      const tests = [{ input: "1 2\n", output: "3\n" }, { input: "-5 7\n", output: "2\n" }];
      const ok = await runner.measure({ language: "C", source: PROGRAMS.C.ok, tests, memoryLimitMb: 256 });
      assert.ok(ok.ok, JSON.stringify(ok));
      assert.equal(ok.runMs.length, 2);
      assert.ok(ok.compileMs > 0 && ok.totalMs >= ok.compileMs + ok.runMs[0]! + ok.runMs[1]!);
      const wrong = await runner.measure({ language: "C", source: PROGRAMS.C.wa, tests, memoryLimitMb: 256 });
      assert.equal(wrong.ok, false);
      assert.match(wrong.ok ? "" : wrong.error, /test 0: wrong answer/);
      assert.ok(existsSync(runner.mountpoint));
      assert.equal(readFileSync("/proc/self/mountinfo", "utf8").includes(runner.mountpoint), false, "the runner's mounts stay in its own namespace");
    } finally {
      await runner.close();
    }
    assert.equal(existsSync(runner.mountpoint), false, "the empty mount point is removed");
  });
});
