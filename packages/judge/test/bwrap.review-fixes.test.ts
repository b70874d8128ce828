// Review findings of the judge hardening (issue 7) on the bwrap engine, each pinned by a
// test that failed before its fix (needs root and the runtime rootfs):
//  - a wall watchdog that fires after the program ended by itself (its timer and the
//    init's answer race) does not make the run a wall-time kill;
//  - a custom checker's runs are pinned to the submission's own CPU, not to the CPU of
//    the slot its session takes (another submission's);
//  - a failure of the program's own setup in the run init (setrlimit, identity, seccomp,
//    ...) is a sandbox error (retried), never an exit code the verdict reads as RE;
//  - an evaluator started with a strict umask (systemd UMask=0027) still gives the program
//    a readable source: the judge's files in /box are 0644 whatever the umask (was: CE);
//  - a session whose supervisor was killed refuses its later runs and writes (its /box is
//    gone), and its dispose() still ends cleanly.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createBwrapEngine, createJudgeWithEngine, DEFAULT_ROOTFS, SandboxError, type RunLimits, type SandboxEngine } from "../src/index.js";
import { classifyRun } from "../src/verdict.js";
import { usableCpus } from "../src/sandbox/cgroup/cpuset.js";
import { Supervisor } from "../src/engines/bwrap/supervisor.js";

const rootfs = process.env.SONOCODE_TEST_ROOTFS || DEFAULT_ROOTFS;
const LIMITS: RunLimits = { cpuTimeMs: 2_000, wallTimeMs: 1_000, memoryBytes: 64 << 20, outputBytes: 1 << 20, processes: 8, fileSizeBytes: 1 << 20 };

function blockEventLoop(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    /* busy: due timers pile up behind the pending I/O */
  }
}

describe("bwrap review fixes", { concurrency: 1 }, () => {
  let engine: SandboxEngine;
  before(async () => {
    engine = createBwrapEngine({ rootfs });
    await engine.check();
  });
  after(async () => {
    await engine?.close();
  });

  it("a program that exits by itself within the wall limit is not turned into a wall kill by a late watchdog", async () => {
    const session = await engine.open();
    try {
      // The program sleeps 200 ms of a 2 s wall limit; the event loop is then held for 2.5 s, so
      // when it resumes both the wall timer (due) and the init's answer (arrived) are pending,
      // and Node runs due timers before I/O: the watchdog fires first, after the program's end.
      const limits = { ...LIMITS, wallTimeMs: 2_000 };
      const running = session.run({ argv: ["/bin/sleep", "0.2"], stdin: "", limits, writableWorkDir: false });
      await new Promise((resolve) => setImmediate(resolve));
      blockEventLoop(2_500);
      const outcome = await running;
      assert.equal(outcome.exitCode, 0);
      assert.equal(outcome.watchdog, null, "the wall watchdog fired after the program had ended: not what ended it");
      assert.ok(outcome.wallTimeMs >= 150 && outcome.wallTimeMs < 2_000, `the init's own wall time: ${outcome.wallTimeMs} ms`);
      assert.equal(classifyRun(outcome, limits), null);
    } finally {
      await session.dispose();
    }
  });

  it("a program still running at the wall limit is killed by the wall watchdog (the fix keeps real kills)", async () => {
    const session = await engine.open();
    try {
      const outcome = await session.run({ argv: ["/bin/sleep", "5"], stdin: "", limits: LIMITS, writableWorkDir: false });
      assert.equal(outcome.watchdog, "wall");
      assert.equal(classifyRun(outcome, LIMITS), "wall");
    } finally {
      await session.dispose();
    }
  });

  it("a failed setrlimit in the program's setup is a sandbox error, not the program's exit code 121", async () => {
    const session = await engine.open();
    try {
      // One plain run so the next run's init is prepared, then a run message the session never
      // sends (RLIMIT_NOFILE above fs.nr_open: EPERM even for root), straight to its supervisor.
      await session.run({ argv: ["/usr/bin/true"], stdin: "", limits: LIMITS });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const supervisor = (session as unknown as { supervisor: Supervisor }).supervisor;
      assert.ok(supervisor instanceof Supervisor);
      // The supervisor is unref'd (a session's runs hold their own timers): keep the loop alive meanwhile.
      const alive = setTimeout(() => undefined, 20_000);
      const reply = await supervisor.run(
        { writable: false, fileSizeBytes: 1 << 20, openFiles: 1 << 30, stackBytes: 8 << 20, cpuSeconds: 2, tmpBytes: 1 << 20, argv: ["/usr/bin/true"], env: [], stdin: Buffer.alloc(0) },
        { stdout: () => undefined, stderr: () => undefined },
      ).finally(() => clearTimeout(alive));
      assert.equal(reply.kind, "error", JSON.stringify(reply));
      assert.equal(reply.stage, "child-rlimit");
      assert.equal(reply.value, 1, "EPERM");
    } finally {
      await session.dispose();
    }
  });

  it("a strict umask in the evaluator (027) still gives the program a readable source: Success, not CE", async () => {
    const judge = createJudgeWithEngine(createBwrapEngine({ rootfs }), { maxConcurrency: 1 });
    const old = process.umask(0o027);
    try {
      const verdict = await judge.judge({ language: "PYTHON", source: "print(input())", tests: [{ input: "7\n", output: "7\n" }] });
      assert.equal(verdict.status, "Success", verdict.compileOutput ?? JSON.stringify(verdict.results[0]));
      const session = await engine.open();
      try {
        await session.writeFile("data.txt", "x");
        const mode = await session.run({ argv: ["/usr/bin/stat", "-c", "%a", "/box/data.txt"], stdin: "", limits: LIMITS });
        assert.equal(mode.stdout.toString("utf8").trim(), "644");
        const made = await session.run({ argv: ["/bin/sh", "-c", "umask"], stdin: "", limits: LIMITS });
        assert.equal(made.stdout.toString("utf8").trim(), "0022", "programs start with the usual umask, not the evaluator's");
      } finally {
        await session.dispose();
      }
    } finally {
      process.umask(old);
      await judge.close();
    }
  });

  it("a session whose supervisor was killed refuses later runs and writes (SandboxError), and disposes cleanly", async () => {
    const session = await engine.open();
    let disposed = false;
    try {
      const first = await session.run({ argv: ["/bin/sh", "-c", "echo $PPID"], stdin: "", limits: LIMITS });
      assert.equal(first.exitCode, 0);
      const supervisors = readdirSync("/proc")
        .filter((entry) => /^\d+$/.test(entry))
        .filter((pid) => {
          try {
            const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
            return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === process.pid && readFileSync(`/proc/${pid}/cmdline`, "latin1").startsWith("sonocode-supervisor");
          } catch {
            return false;
          }
        });
      assert.equal(supervisors.length, 1, `one supervisor of this process: ${supervisors.join(",")}`);
      process.kill(Number(supervisors[0]), "SIGKILL");
      await new Promise((resolve) => setTimeout(resolve, 300));
      await assert.rejects(session.run({ argv: ["/bin/true"], stdin: "", limits: LIMITS }), SandboxError);
      await assert.rejects(session.writeFile("a.txt", "x"), SandboxError);
      await session.dispose();
      disposed = true;
    } finally {
      if (!disposed) await session.dispose();
    }
  });

  it("a custom checker runs on the submission's CPU, not on the CPU of the slot its session takes", async (t) => {
    if (usableCpus().length < 2) return t.skip("one usable CPU: every slot shares it");
    const probe = await engine.open();
    const pinned = probe.cpus;
    await probe.dispose();
    if (!pinned) return t.skip("runs are not pinned on this host (no cpuset)");
    const cacheDir = await mkdtemp(join(tmpdir(), "sonocode-pin-cache-test-"));
    // An engine of its own (the judge closes it). Another session holds slot 0: the submission
    // gets slot 1 (CPU 1), its checker's session slot 2 (CPU 0 of 2 without the fix).
    const own = createBwrapEngine({ rootfs });
    const judge = createJudgeWithEngine(own, { maxConcurrency: 2, checkerCacheDir: cacheDir });
    const other = await own.open();
    try {
      const cpusOf = "import re\nprint(re.search(r'Cpus_allowed_list:\\s*(\\S+)', open('/proc/self/status').read()).group(1))\n";
      const checker = `import re, sys
mine = re.search(r"Cpus_allowed_list:\\s*(\\S+)", open("/proc/self/status").read()).group(1)
program = open(sys.argv[2]).read().strip()
sys.stderr.write("checker on %s, program on %s" % (mine, program))
sys.exit(0 if mine == program else 1)
`;
      const verdict = await judge.judge({
        language: "PYTHON",
        source: cpusOf,
        tests: [{ input: "", output: "" }],
        checker: { type: "custom", protocol: "testlib", language: "PYTHON", source: checker },
      });
      assert.equal(verdict.status, "Success", verdict.results[0]?.checkerMessage ?? JSON.stringify(verdict));
    } finally {
      await other.dispose();
      await judge.close();
      await rm(cacheDir, { recursive: true, force: true });
    }
  });
});
