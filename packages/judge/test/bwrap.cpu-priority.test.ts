// Sandboxes at a lower CPU priority (SANDBOX_NICE): each session's supervisor leads a session
// of its own at that nice value (and autogroup), and the programs inherit it; the judge keeps
// its own. The wall limit stops programs that sleep or block, not programs starved of their
// CPU: a CPU-bound program sharing its pinned CPU with a busy process of higher priority (what
// a lowered sandbox meets when the API is busy) runs past its wall limit by the time it waited
// and is not a wall verdict; a program that sleeps is still stopped at the limit.
// Needs root (the bwrap engine's cgroups) and the runtime rootfs.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { createBwrapEngine, type RunLimits, type SandboxEngine, type SandboxSession } from "../src/index.js";
import { CpuWaitMeter, runQueueDelayMs } from "../src/sandbox/cpu-wait.js";
import { textSession, type TextSession } from "./run-text.js";

/** The wall limit is what is tested: the CPU limit stays far away. */
const LIMITS: RunLimits = { cpuTimeMs: 5_000, wallTimeMs: 1_500, memoryBytes: 256 << 20, outputBytes: 1 << 20, processes: 8, fileSizeBytes: 1 << 20 };
/** ~0.5 s of CPU: ~2 s of wall time at a quarter of a CPU, past the 1.5 s limit, well within its 6 s of grant (a loaded machine slows it further: at a fifteenth it would still end in time). */
const BURN = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.5:\n    pass\nprint('done')\n";
/** The same work in a second thread while the main thread waits in join() (a JVM runs main() so, Go's runtime on threads of its own): the thread that waited for the CPU is not the process's main one. */
const THREADED_BURN = "import threading, time\ndef burn():\n    t = time.thread_time()\n    while time.thread_time() - t < 0.5:\n        pass\nw = threading.Thread(target=burn)\nw.start()\nw.join()\nprint('done')\n";

/** Against a busy process of nice 0 on its CPU (weight 1024) a program at nice 5 (weight 335) gets ~25% of it: starved for sure, not so far that other load on the machine takes it past the grant. */
const NICE = 5;

/** Fields after the parenthesised command name of /proc/<pid>/stat. */
function statFields(pid: number | "self"): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** Host pids of the supervisors this process started. */
function supervisors(): number[] {
  return readdirSync("/proc").filter((entry) => /^\d+$/.test(entry)).map(Number).filter((pid) => {
    try {
      return Number(statFields(pid)[1]) === process.pid && readFileSync(`/proc/${pid}/cmdline`, "latin1") === "sonocode-supervisor\0";
    } catch {
      return false;
    }
  });
}

const why = process.getuid?.() === 0 && runQueueDelayMs(process.pid) !== null ? undefined : "needs root and /proc/<pid>/schedstat";

describe("bwrap: sandboxes at a lower CPU priority; the wall limit does not count time a runnable program waited for its CPU", { skip: why, concurrency: false }, () => {
  let engine: SandboxEngine;
  let raw: SandboxSession;
  let session: TextSession;
  let hog: ChildProcess | undefined;
  const py = (code: string) => session.run({ argv: ["/usr/bin/python3", "-c", code], stdin: "", limits: LIMITS });

  before(async () => {
    engine = createBwrapEngine({ nice: NICE });
    raw = await engine.open();
    session = textSession(raw);
  });
  after(async () => {
    hog?.kill("SIGKILL");
    await session?.dispose();
    await engine?.close();
  });

  it("the supervisor leads its own session at the nice value (its autogroup too), the program inherits it, the judge keeps its own", async () => {
    const own = Number(statFields("self")[16]);
    const run = await py("stat = open('/proc/self/stat').read()\nprint(stat[stat.rindex(')') + 2:].split()[16])\n");
    assert.equal(run.stdout, `${NICE}\n`, JSON.stringify({ stderr: run.stderr, exit: run.exitCode }));
    const [supervisor] = supervisors();
    assert.ok(supervisor, "the session's supervisor is a child of this process");
    const fields = statFields(supervisor);
    assert.equal(Number(fields[3]), supervisor, "it leads its own session");
    assert.equal(Number(fields[16]), NICE);
    if (existsSync(`/proc/${supervisor}/autogroup`)) assert.match(readFileSync(`/proc/${supervisor}/autogroup`, "utf8"), new RegExp(`nice ${NICE}\\s*$`));
    assert.equal(Number(statFields("self")[16]), own, "the judge's own priority is unchanged");
  });

  it("the meter: threads waiting side by side count once (never more than the time that passed), what waited before it was made not at all", async () => {
    // Four busy processes on one CPU: each waits ~3/4 of the time, at the same time as the others.
    const busy = [0, 1, 2, 3].map(() => spawn("taskset", ["-c", "0", "sh", "-c", "while :; do :; done"], { stdio: "ignore" }));
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const pids = () => busy.map((child) => child.pid ?? 0);
      const start = performance.now();
      const meter = new CpuWaitMeter(pids);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const first = meter.waitedMs();
      const firstElapsed = performance.now() - start;
      assert.ok(first > 100 && first <= firstElapsed, `waited ${first} ms of ${firstElapsed} ms (the 300 ms before the meter not counted)`);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const second = meter.waitedMs();
      const elapsed = performance.now() - start;
      assert.ok(second > first + 100 && second <= elapsed, `waited ${second} ms of ${elapsed} ms`);
    } finally {
      for (const child of busy) child.kill("SIGKILL");
    }
  });

  it("a program cannot leave its session's lowered autogroup: setsid() is refused (a new session is a new autogroup at nice 0, equal to the API's)", async (t) => {
    if (!existsSync("/proc/self/autogroup")) return t.skip("no autogroups in this kernel");
    const code = [
      "import os",
      "pid = os.fork()",
      "if pid == 0:",
      "    try:",
      "        os.setsid()",
      "        out = 'setsid ok'",
      "    except OSError as e:",
      "        out = 'setsid errno %d' % e.errno",
      "    print(out, open('/proc/self/autogroup').read().split()[-1], flush=True)",
      "    os._exit(0)",
      "os.waitpid(pid, 0)",
    ].join("\n");
    const run = await py(code);
    assert.equal(run.stdout, `setsid errno 1 ${NICE}\n`, JSON.stringify({ stderr: run.stderr, exit: run.exitCode }));
  });

  it("a program cannot raise its session's autogroup back to nice 0 through /proc/self/autogroup", async (t) => {
    if (!existsSync("/proc/self/autogroup")) return t.skip("no autogroups in this kernel");
    const code = [
      "try:",
      "    open('/proc/self/autogroup', 'w').write('0')",
      "    out = 'written'",
      "except OSError as e:",
      "    out = 'errno %d' % e.errno",
      "print(out, open('/proc/self/autogroup').read().split()[-1])",
    ].join("\n");
    const run = await py(code);
    assert.match(run.stdout, new RegExp(` ${NICE}\n$`), JSON.stringify({ stdout: run.stdout, stderr: run.stderr, exit: run.exitCode }));
  });

  it("starved by a busy process on its CPU: past the wall limit, not a wall verdict; a sleeper is still stopped at it", async (t) => {
    const cpu = raw.cpus?.[0];
    if (cpu === undefined) return t.skip("this session is not pinned: no CPU to share on purpose");
    const alone = await py(BURN);
    assert.equal(alone.limit, null, `alone: ${alone.wallTimeMs} ms wall`);

    hog = spawn("taskset", ["-c", String(cpu), "sh", "-c", "while :; do :; done"], { stdio: "ignore" });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const starved = await py(BURN);
    assert.equal(starved.stdout, "done\n", JSON.stringify({ watchdog: starved.watchdog, wall: starved.wallTimeMs, cpu: starved.cpuTimeMs }));
    assert.equal(starved.watchdog, null);
    assert.equal(starved.limit, null);
    assert.ok(starved.wallTimeMs > LIMITS.wallTimeMs, `it really ran past the wall limit (${starved.wallTimeMs} ms)`);
    assert.ok((starved.cpuWaitMs ?? 0) > 0 && starved.wallTimeMs - (starved.cpuWaitMs ?? 0) <= LIMITS.wallTimeMs, `waited ${starved.cpuWaitMs} ms of ${starved.wallTimeMs} ms`);

    // The waiting thread is not the main one: its wait counts the same.
    const threaded = await py(THREADED_BURN);
    assert.equal(threaded.stdout, "done\n", JSON.stringify({ watchdog: threaded.watchdog, wall: threaded.wallTimeMs, cpu: threaded.cpuTimeMs, waited: threaded.cpuWaitMs }));
    assert.equal(threaded.limit, null, JSON.stringify({ watchdog: threaded.watchdog, wall: threaded.wallTimeMs, cpu: threaded.cpuTimeMs, waited: threaded.cpuWaitMs }));

    // The same neighbour, a program that sleeps: it waits for nothing, so nothing is granted.
    const sleeper = await py("import time\ntime.sleep(10)\n");
    assert.equal(sleeper.watchdog, "wall");
    assert.equal(sleeper.limit, "wall");
    assert.ok(sleeper.wallTimeMs < LIMITS.wallTimeMs + 400, `stopped near the limit (${sleeper.wallTimeMs} ms)`);
  });
});
