// CPU pinning (issue 9): each session slot runs on a CPU of its own, so parallel
// judging does not distort measured times. The list format and the slot mapping;
// the run groups' cpuset on this host's hierarchy (v1 here; v2 in the VM's
// cgroup.v2.test.ts), a process joined the way the launcher joins reporting only its
// CPU; and both engines with two sessions open at once, seen from inside.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import { formatCpuList, parseCpuList, slotCpus, usableCpus } from "../src/sandbox/cgroup/cpuset.js";
import { createCgroupManager } from "../src/sandbox/cgroup/detect.js";
import type { CgroupManager } from "../src/sandbox/cgroup/run-cgroups.js";
import { createBwrapEngine } from "../src/engines/bwrap/engine.js";
import { createDockerEngine } from "../src/engines/docker/engine.js";
import type { SandboxEngine } from "../src/sandbox/sandbox.js";
import { dockerSkipReason } from "./docker.availability.js";

const PARENT = `sonocode-cpuset-${process.pid}`;
const isRoot = process.geteuid?.() === 0;
const ROOTFS = "/var/lib/sonocode/runtime/rootfs";
/** What a program sees of its CPUs: the kernel's mask, and sched_getaffinity's count (nproc). */
const PROBE = "grep Cpus_allowed_list /proc/self/status | tr -d ' \\t' | cut -d: -f2; nproc";

describe("cpu lists and slots", () => {
  it("parses and formats the kernel's list format", () => {
    assert.deepEqual(parseCpuList("0-3,6,8-9\n"), [0, 1, 2, 3, 6, 8, 9]);
    assert.deepEqual(parseCpuList(""), []);
    assert.deepEqual(parseCpuList("5"), [5]);
    assert.throws(() => parseCpuList("0-"));
    assert.throws(() => parseCpuList("3-1"));
    assert.equal(formatCpuList([9, 0, 1, 2, 3, 6, 8]), "0-3,6,8-9");
    assert.equal(formatCpuList([4]), "4");
  });

  it("gives each slot its own CPU, round-robin past the last", () => {
    assert.deepEqual([0, 1, 2, 3, 4].map((slot) => slotCpus(slot, [2, 5, 7])), [[2], [5], [7], [2], [5]]);
    assert.throws(() => slotCpus(0, []));
  });

  it("usable CPUs are this process's affinity mask (what nproc counts)", async () => {
    const usable = usableCpus();
    const mask = parseCpuList(readFileSync("/proc/self/status", "utf8").match(/Cpus_allowed_list:\s*(\S+)/)![1]!);
    assert.ok(usable.length >= 1 && usable.every((cpu) => mask.includes(cpu)), `${usable} within ${mask}`);
    const nproc = await sh(["/bin/sh", "-c", "nproc"]);
    assert.equal(usable.length, Number(nproc.stdout.trim()));
  });
});

function sh(argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Removes this file's parent groups (every hierarchy; on v2 the one tree, or inside the judge's delegated group). */
after(() => {
  const roots = ["/sys/fs/cgroup", ...readdirSync("/sys/fs/cgroup").map((d) => join("/sys/fs/cgroup", d))];
  for (const root of roots) {
    try {
      rmdirSync(join(root, PARENT));
    } catch {
      /* not there, or not a cgroup hierarchy */
    }
  }
});

const hierarchyWhy = !isRoot ? "needs root (the judge's own cgroups)" : false;

describe("run groups pinned through the cpuset controller", { skip: hierarchyWhy, concurrency: false }, () => {
  let manager: CgroupManager;
  after(async () => {
    await manager?.removeStale();
    manager?.close();
  });

  it("the parent offers this process's CPUs; a run group gets cpuset.cpus before anyone joins; a joined process sees one CPU", async (t) => {
    manager = await createCgroupManager({ parent: PARENT });
    if (!manager.cpuset.cpus) return t.skip(`no cpuset here: ${manager.cpuset.reason}`);
    const usable = manager.cpuset.cpus;
    assert.deepEqual(usable, usableCpus().filter((cpu) => usable.includes(cpu)));
    for (const cpu of [usable[0]!, usable[usable.length - 1]!]) {
      const run = manager.create({ memoryBytes: 64 << 20, processes: 8 }, { cpus: [cpu] });
      try {
        const procs = run.cgroup.procsFiles();
        // The cpuset group is one of the groups a launcher joins (v1: its own hierarchy; v2: the one group).
        const cpusFile = procs.map((p) => join(dirname(p), "cpuset.cpus")).find((f) => existsSync(f));
        assert.ok(cpusFile, `a cpuset.cpus among ${procs.join(" ")}`);
        assert.equal(readFileSync(cpusFile, "utf8").trim(), String(cpu));
        // Join every group (as native/launcher.c does, "0" = itself), then exec the probe.
        const joined = await sh(["/bin/sh", "-c", `for f in "$@"; do echo 0 > "$f" || exit 9; done; ${PROBE}`, "sh", ...procs]);
        assert.equal(joined.code, 0, joined.stderr);
        assert.deepEqual(joined.stdout.trim().split("\n"), [String(cpu), "1"]);
      } finally {
        await run.destroy();
      }
    }
  });

  it("v1: runs on one CPU share one cpuset group that is no run's: one run's tasks, kill and removal leave the other's alone", async (t) => {
    if (!manager?.cpuset.cpus) return t.skip("no cpuset here");
    if (manager.version !== 1) return t.skip("v2: the cpuset is the run group's own");
    const cpu = manager.cpuset.cpus[0]!;
    const [a, b] = [manager.create(undefined, { cpus: [cpu] }), manager.create(undefined, { cpus: [cpu] })];
    let sleeper: ReturnType<typeof spawn> | null = null;
    try {
      const pin = (run: typeof a) => run.cgroup.procsFiles().map(dirname).find((dir) => existsSync(join(dir, "cpuset.cpus")));
      assert.ok(pin(a) && pin(a) === pin(b), `one pin group: ${pin(a)} ${pin(b)}`);
      // Joined last, after the groups the run owns (run-init.c joins in this order; settle() reads the first).
      assert.equal(a.cgroup.procsFiles().at(-1), join(pin(a)!, "cgroup.procs"));
      assert.ok(!existsSync(join(dirname(a.cgroup.procsFiles()[0]!), "cpuset.cpus")));
      assert.equal(readFileSync(join(pin(a)!, "cpuset.cpus"), "utf8").trim(), String(cpu));
      // A process in b (and so in the pin) is not a's: a's tasks, settle and destroy do not see or kill it.
      sleeper = spawn("/bin/sh", ["-c", `for f in "$@"; do echo 0 > "$f" || exit 9; done; exec sleep 30`, "sh", ...b.cgroup.procsFiles()], { stdio: "ignore" });
      const pid = sleeper.pid!;
      for (let i = 0; i < 200 && !b.cgroup.pids().includes(pid); i++) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(b.cgroup.pids(), [pid]);
      assert.deepEqual(a.cgroup.pids(), []);
      await a.settle();
      await a.destroy();
      assert.equal(sleeper.exitCode, null);
      assert.ok(readFileSync(join(pin(b)!, "cgroup.procs"), "utf8").split("\n").includes(String(pid)));
      await b.killAll();
      assert.deepEqual(b.cgroup.pids(), []);
    } finally {
      sleeper?.kill("SIGKILL");
      await a.destroy();
      await b.destroy();
    }
  });

  it("v1: close() removes the shared cpuset groups; a dead judge's are removed by the next removeStale", async (t) => {
    if (!manager?.cpuset.cpus) return t.skip("no cpuset here");
    if (manager.version !== 1) return t.skip("v2: no shared cpuset groups");
    const own = await createCgroupManager({ parent: PARENT });
    const run = own.create(undefined, { cpus: [own.cpuset.cpus![0]!] });
    const pin = dirname(run.cgroup.procsFiles().at(-1)!);
    await run.destroy();
    assert.ok(existsSync(pin));
    own.close();
    assert.ok(!existsSync(pin));
    // A pin group whose owner is gone (a crashed judge's).
    const dead = spawn("/bin/true");
    await new Promise((r) => dead.once("exit", r));
    const stale = join(dirname(pin), `pin-${dead.pid}-abc123-0`);
    mkdirSync(stale);
    assert.ok((await manager.removeStale()) >= 1);
    assert.ok(!existsSync(stale));
  });

  it("a run group without a placement is not narrowed", async (t) => {
    if (!manager?.cpuset.cpus) return t.skip("no cpuset here");
    const run = manager.create();
    try {
      const joined = await sh(["/bin/sh", "-c", `for f in "$@"; do echo 0 > "$f" || exit 9; done; ${PROBE}`, "sh", ...run.cgroup.procsFiles()]);
      assert.equal(joined.code, 0, joined.stderr);
      assert.equal(Number(joined.stdout.trim().split("\n")[1]), manager.cpuset.cpus.length);
    } finally {
      await run.destroy();
    }
  });
});

/** Two sessions open at once (slots 0 and 1): each run sees only its slot's CPU. */
async function twoSlots(engine: SandboxEngine): Promise<string[][]> {
  const sessions = [await engine.open(), await engine.open()];
  try {
    // Generous: the v2 guest (npm run test:vm) emulates the CPU and runs programs 20-100x slower.
    const limits = { cpuTimeMs: 20_000, wallTimeMs: 60_000, memoryBytes: 64 << 20, outputBytes: 4096, processes: 8, fileSizeBytes: 4096 };
    const outs = await Promise.all(sessions.map((s) => s.run({ argv: ["/bin/sh", "-c", PROBE], stdin: "", limits })));
    return outs.map((out) => {
      assert.equal(out.exitCode, 0, JSON.stringify({ signal: out.signal, watchdog: out.watchdog, stderr: out.stderr.toString() }));
      return out.stdout.toString().trim().split("\n");
    });
  } finally {
    await Promise.all(sessions.map((s) => s.dispose()));
  }
}

const expected = () => [0, 1].map((slot) => [String(slotCpus(slot, usableCpus())[0]), "1"]);

const bwrapWhy = !isRoot ? "needs root" : !existsSync(ROOTFS) ? "no runtime rootfs" : false;
describe("bwrap engine: slot k runs on CPU k", { skip: bwrapWhy }, () => {
  const engine = createBwrapEngine({ cgroupRoot: PARENT });
  after(() => engine.close());
  it("two sessions at once, each pinned to its own CPU", async () => {
    assert.deepEqual(await twoSlots(engine), expected());
  });
});

const dockerEngine = createDockerEngine({});
const dockerWhy = await dockerSkipReason(dockerEngine);
describe("docker engine: slot k's container runs on CPU k (CpusetCpus)", { skip: dockerWhy ?? false }, () => {
  after(() => dockerEngine.close());
  it("two sessions at once, each pinned to its own CPU", async () => {
    assert.deepEqual(await twoSlots(dockerEngine), expected());
  });
});
