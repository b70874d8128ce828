// cgroup v2 run groups on a real unified hierarchy (npm run test:vm boots one; a
// cgroup-v2 host runs them natively): controllers enabled level by level, the judge
// never left in a group that enables controllers, memory.max with no swap, OOM kills
// and peaks from memory.events / memory.peak, pids.max, CPU from cpu.stat, cgroup.kill,
// cpuset pinning (issue 9).
// As root the runs' parent is at the top of the hierarchy; as any other user it is
// inside the judge's own delegated group (systemd Delegate=yes), where an unprivileged
// bwrap must also be confined by the run group. The parsing/error tests run anywhere.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmdirSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import { createCgroupManager } from "../src/sandbox/cgroup/detect.js";
import type { CgroupManager, RunCgroup } from "../src/sandbox/cgroup/run-cgroups.js";
import { JUDGE_LEAF, ownCgroupPath, prepareV2Parent } from "../src/sandbox/cgroup/v2-parent.js";

const MOUNT = "/sys/fs/cgroup";
const PARENT = `sonocode-cgtest-${process.pid}`;
const ROOTFS = "/var/lib/sonocode/runtime/rootfs";
const isRoot = process.geteuid?.() === 0;

function v2Usable(): string | false {
  const mount = readFileSync("/proc/self/mountinfo", "utf8").split("\n").find((l) => l.includes(" - cgroup2 "));
  if (!mount || mount.split(" ")[4] !== MOUNT) return "no cgroup2 mounted at /sys/fs/cgroup";
  const controllers = readFileSync(join(MOUNT, "cgroup.controllers"), "utf8");
  if (!/\bmemory\b/.test(controllers) || !/\bpids\b/.test(controllers)) return "cgroup2 without memory+pids (hybrid host)";
  return false;
}
const why = (() => {
  try {
    return v2Usable();
  } catch {
    return "no cgroup2";
  }
})();
// A v2 host must run them (the VM sets this, so a broken detection cannot skip silently).
if (why && process.env.SONOCODE_TEST_CGROUP_V2 === "1") throw new Error(`SONOCODE_TEST_CGROUP_V2=1 but ${why}`);

const read = (file: string) => readFileSync(file, "utf8").trim();
const words = (file: string) => read(file).split(/\s+/).filter(Boolean);
const ownDir = () => join(MOUNT, ownCgroupPath() ?? "/");

/** Runs argv in the group: a shell joins it ("0" = itself) and execs, so nothing runs outside. */
function runIn(run: RunCgroup, argv: string[], timeoutMs = 60_000): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  const procs = run.cgroup.procsFiles()[0]!;
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", 'echo 0 > "$0" && exec "$@"', procs, ...argv], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe("cgroup v2 run groups", { skip: why || false, concurrency: false }, () => {
  let manager: CgroupManager;
  let parentDir = "";

  after(async () => {
    await manager?.removeStale();
    try {
      rmdirSync(parentDir);
    } catch {
      /* still has our own groups if a test failed */
    }
  });

  it("detects v2 and prepares the parent: memory+pids (and cpu) enabled down the path, the judge in no group that enables controllers", async () => {
    manager = await createCgroupManager({ parent: PARENT });
    assert.equal(manager.version, 2);
    const run = manager.create();
    parentDir = dirname(dirname(run.cgroup.procsFiles()[0]!));
    await run.destroy();
    const expectedBase = isRoot ? MOUNT : dirname(ownDir());
    assert.equal(parentDir, join(expectedBase, PARENT), "root: at the top; delegated: inside the judge's own group");
    const enabled = words(join(parentDir, "cgroup.subtree_control"));
    assert.ok(enabled.includes("memory") && enabled.includes("pids"), enabled.join(" "));
    if (words(join(dirname(parentDir), "cgroup.controllers")).includes("cpu")) assert.ok(enabled.includes("cpu"));
    // "No internal processes": our own group enables nothing (or is the root, which is exempt).
    const own = ownDir();
    if (own !== MOUNT) assert.deepEqual(words(join(own, "cgroup.subtree_control")), []);
    if (!isRoot) assert.equal(own.split("/").pop(), JUDGE_LEAF, "a delegated judge moves itself into its leaf");
    // Idempotent: a second manager in the same process (another engine) finds the same parent.
    const again = await createCgroupManager({ parent: PARENT });
    const second = again.create();
    assert.equal(dirname(dirname(second.cgroup.procsFiles()[0]!)), parentDir);
    await second.destroy();
  });

  it("memory.max with memory.swap.max = 0; an allocation past it is an OOM kill with its peak", async () => {
    const run = manager.create({ memoryBytes: 96 << 20, processes: 16 });
    try {
      const dir = dirname(run.cgroup.procsFiles()[0]!);
      assert.equal(read(join(dir, "memory.max")), String(96 << 20));
      if (existsSync(join(dir, "memory.swap.max"))) assert.equal(read(join(dir, "memory.swap.max")), "0");
      assert.equal(read(join(dir, "pids.max")), "16");
      const hog = "const a=[];for(let i=0;i<64;i++){const b=Buffer.alloc(8<<20);b.fill(i+1);a.push(b)}console.log('survived')";
      const result = await runIn(run, [process.execPath, "-e", hog]);
      assert.equal(result.signal, "SIGKILL", JSON.stringify(result));
      const stats = run.stats();
      assert.equal(stats.oomKilled, true, "memory.events oom_kill");
      assert.equal(stats.limitReached, true, "memory.events max");
      assert.ok(stats.memoryPeakKb > 80 * 1024 && stats.memoryPeakKb <= 96 * 1024, `peak ${stats.memoryPeakKb} KiB`);
    } finally {
      await run.destroy();
    }
  });

  it("a program under the limit is neither killed nor flagged", async () => {
    const run = manager.create({ memoryBytes: 256 << 20, processes: 16 });
    try {
      const result = await runIn(run, [process.execPath, "-e", "const b=Buffer.alloc(16<<20);b.fill(1);console.log(b[5])"]);
      assert.equal(result.code, 0, result.stderr);
      const stats = run.stats();
      assert.equal(stats.oomKilled, false);
      assert.equal(stats.limitReached, false);
      assert.ok(stats.memoryPeakKb >= 16 * 1024, `peak ${stats.memoryPeakKb} KiB`);
    } finally {
      await run.destroy();
    }
  });

  it("pids.max caps a fork loop; CPU time comes from cpu.stat; cgroup.kill empties the group", async () => {
    const run = manager.create({ memoryBytes: 128 << 20, processes: 8 });
    try {
      const dir = dirname(run.cgroup.procsFiles()[0]!);
      const forks = await runIn(run, ["/bin/sh", "-c", "for i in $(seq 30); do sleep 30 </dev/null >/dev/null 2>&1 & done; echo started"]);
      assert.match(forks.stderr, /fork|Resource temporarily unavailable|retry/i, "the shell hit pids.max");
      assert.ok(run.cgroup.pids().length <= 8, `${run.cgroup.pids().length} processes`);
      assert.ok(Number(readFileSync(join(dir, "pids.events"), "utf8").match(/max (\d+)/)?.[1]) > 0, "pids.events max");
      await run.killAll();
      assert.deepEqual(run.cgroup.pids(), []);
      const before = run.cpuTimeMs();
      const spin = await runIn(run, [process.execPath, "-e", "const t=process.cpuUsage();while(process.cpuUsage(t).user<400000);"]);
      assert.equal(spin.code, 0, spin.stderr);
      assert.ok(run.cpuTimeMs() - before >= 350, `cpu ${run.cpuTimeMs() - before} ms`);
    } finally {
      await run.destroy();
      assert.equal(existsSync(dirname(run.cgroup.procsFiles()[0]!)), false, "group removed");
    }
  });

  it("cpuset: enabled for the runs where offered; a run group pinned to one CPU before anyone joins; a process in it sees only that CPU", async (t) => {
    const offered = words(join(dirname(parentDir), "cgroup.controllers")).includes("cpuset");
    if (!offered) {
      assert.equal(manager.cpuset.cpus, null);
      return t.skip("cpuset not offered to the runs' parent here");
    }
    assert.ok(words(join(parentDir, "cgroup.subtree_control")).includes("cpuset"));
    const usable = manager.cpuset.cpus;
    assert.ok(usable && usable.length > 0, JSON.stringify(manager.cpuset));
    const cpu = usable[usable.length - 1]!;
    const run = manager.create({ memoryBytes: 64 << 20, processes: 8 }, { cpus: [cpu] });
    try {
      assert.equal(read(join(dirname(run.cgroup.procsFiles()[0]!), "cpuset.cpus")), String(cpu));
      const probe = await runIn(run, ["/bin/sh", "-c", "grep Cpus_allowed_list /proc/self/status | tr -d ' \\t' | cut -d: -f2; nproc"]);
      assert.equal(probe.code, 0, probe.stderr);
      assert.deepEqual(probe.stdout.trim().split("\n"), [String(cpu), "1"]);
    } finally {
      await run.destroy();
    }
  });

  it("an unprivileged bwrap started in a delegated run group stays confined by it", { skip: isRoot ? "root: the bwrap suite covers the engine" : !existsSync(ROOTFS) && "no runtime rootfs" }, async () => {
    const run = manager.create({ memoryBytes: 64 << 20, processes: 32 });
    try {
      const bwrap = ["/usr/bin/bwrap", "--unshare-all", "--unshare-cgroup", "--die-with-parent", "--ro-bind", ROOTFS, "/", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--"];
      const where = await runIn(run, [...bwrap, "/bin/cat", "/proc/self/cgroup"]);
      assert.equal(where.code, 0, where.stderr);
      assert.equal(where.stdout.trim(), "0::/", "its own cgroup namespace, rooted at the run group");
      const hog = await runIn(run, [...bwrap, "/usr/bin/python3", "-c", "b = bytearray(200 << 20); print('survived')"]);
      assert.notEqual(hog.code, 0);
      assert.ok(!hog.stdout.includes("survived"));
      assert.equal(run.stats().oomKilled, true);
    } finally {
      await run.destroy();
    }
  });
});

describe("cgroup v2 parent preparation (plain files standing in for a hierarchy)", () => {
  const scratch = mkdtempSync(join(tmpdir(), "sonocode-cgv2-"));
  after(() => rmSync(scratch, { recursive: true, force: true }));
  const level = (dir: string, controllers: string) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "cgroup.controllers"), controllers);
    writeFileSync(join(dir, "cgroup.subtree_control"), "");
    writeFileSync(join(dir, "cgroup.procs"), "");
  };

  it("reads this process's v2 path from /proc/self/cgroup, ignoring v1 lines", () => {
    assert.equal(ownCgroupPath("12:memory:/x\n0::/system.slice/a.service\n"), "/system.slice/a.service");
    assert.equal(ownCgroupPath("4:pids:/\n3:memory:/\n"), null);
  });

  it("a level that does not offer pids is a readable error naming it, not a failure on the first run", () => {
    const root = join(scratch, "nopids");
    level(root, "cpu memory");
    assert.throws(() => prepareV2Parent({ mountPoint: root, mountRoot: "/", parent: "runs", delegated: false, ownPath: "/elsewhere" }), /cannot enable (memory and )?pids for the children of .*nopids \(it offers: cpu memory\)/);
  });

  it("delegated: refuses the root group, and a group it may not write", () => {
    const root = join(scratch, "deleg");
    level(root, "memory pids");
    assert.throws(() => prepareV2Parent({ mountPoint: root, mountRoot: "/", parent: "runs", delegated: true, ownPath: "/" }), /needs a delegated cgroup/);
    assert.throws(() => prepareV2Parent({ mountPoint: root, mountRoot: "/", parent: "runs", delegated: true, ownPath: null }), /is not under/);
    if (!isRoot) {
      level(join(root, "svc"), "memory pids");
      rmSync(join(root, "svc", "cgroup.subtree_control"));
      writeFileSync(join(root, "svc", "cgroup.subtree_control"), "", { mode: 0o444 });
      assert.throws(() => prepareV2Parent({ mountPoint: root, mountRoot: "/", parent: "runs", delegated: true, ownPath: "/svc" }), /is not delegated to uid/);
    }
  });

  it("a cgroup outside the mount's root (another namespace) is not taken for ours", () => {
    const root = join(scratch, "ns");
    level(root, "memory pids");
    assert.throws(() => prepareV2Parent({ mountPoint: root, mountRoot: "/container", parent: "runs", delegated: true, ownPath: "/other/x" }), /is not under/);
    assert.equal(readdirSync(root).includes("runs"), false);
  });
});
