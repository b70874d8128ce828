// cgroup v1: a finished run's pids, cpuacct and freezer groups are kept for a later run
// (sandbox/cgroup/v1-spares.ts) with their counters reset; a killed run's are not; the memory
// group is always new. v1 hosts only (this machine); v2 has one group per run, unchanged.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import { createCgroupManager } from "../src/sandbox/cgroup/detect.js";
import type { CgroupManager, RunCgroup } from "../src/sandbox/cgroup/run-cgroups.js";
import { createBwrapEngine } from "../src/engines/bwrap/engine.js";

const PARENT = `sonocode-spares-${process.pid}`;
const isRoot = process.geteuid?.() === 0;
const ROOTFS = "/var/lib/sonocode/runtime/rootfs";

after(() => {
  for (const root of readdirSync("/sys/fs/cgroup").map((d) => join("/sys/fs/cgroup", d))) {
    try {
      rmdirSync(join(root, PARENT));
    } catch {
      /* not there, or not a cgroup hierarchy */
    }
  }
});

/** The group of `run` in the hierarchy whose directory holds `file`. */
const groupWith = (run: RunCgroup, file: string) => run.cgroup.procsFiles().map(dirname).find((dir) => existsSync(join(dir, file)));

/** A process joined to every group of the run (as the run init does), running `script`; resolves at its exit. */
function joined(run: RunCgroup, script: string): { pid: number; exited: Promise<number | null> } {
  const child = spawn("/bin/sh", ["-c", `for f in "$@"; do echo 0 > "$f" || exit 9; done; ${script}`, "sh", ...run.cgroup.procsFiles()], { stdio: "ignore" });
  return { pid: child.pid!, exited: new Promise((resolve) => child.once("exit", (code) => resolve(code))) };
}

describe("v1: kept pids/cpuacct/freezer groups", { skip: !isRoot ? "needs root" : false, concurrency: false }, () => {
  let manager: CgroupManager;
  after(() => manager?.close());

  it("a finished run's groups serve the next run, counters reset; its memory group is new; close() removes them", async (t) => {
    manager = await createCgroupManager({ parent: PARENT });
    if (manager.version !== 1) return t.skip("cgroup v2: one group per run");
    const first = manager.create({ memoryBytes: 64 << 20, processes: 5 });
    const cpuacct = groupWith(first, "cpuacct.usage")!;
    const pids = groupWith(first, "pids.max")!;
    const memory = groupWith(first, "memory.limit_in_bytes")!;
    const burn = joined(first, "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done");
    assert.equal(await burn.exited, 0);
    await first.settle();
    assert.ok(first.stats().cpuTimeMs > 0, "the burn was counted");
    await first.destroy();
    assert.ok(!existsSync(memory), "the memory group went with its run");
    assert.ok(existsSync(cpuacct) && existsSync(pids), "kept");

    // Without limits, unlimited, as a new group; usage from zero.
    const second = manager.create();
    assert.equal(groupWith(second, "cpuacct.usage"), cpuacct);
    assert.equal(groupWith(second, "pids.max"), pids);
    assert.notEqual(groupWith(second, "memory.limit_in_bytes"), memory);
    assert.equal(second.cpuTimeMs(), 0);
    assert.equal(readFileSync(join(pids, "pids.max"), "utf8").trim(), "max");
    second.setLimits({ memoryBytes: 64 << 20, processes: 3 });
    assert.equal(readFileSync(join(pids, "pids.max"), "utf8").trim(), "3");
    // The limit holds in the kept group: a fourth process cannot start.
    const forks = joined(second, "sleep 2 & sleep 2 & sleep 2 & wait");
    assert.notEqual(await forks.exited, 0);
    await second.settle();
    await second.destroy();
    manager.close();
    assert.ok(!existsSync(cpuacct) && !existsSync(pids), "close() removed the kept groups");
  });

  it("a run that ends after close() (a session still open when its engine closed) removes its groups, none is kept", async (t) => {
    const late = await createCgroupManager({ parent: PARENT });
    if (late.version !== 1) return t.skip("cgroup v2");
    const run = late.create();
    const cpuacct = groupWith(run, "cpuacct.usage")!;
    late.close();
    await run.destroy();
    assert.ok(!existsSync(cpuacct), "removed with its run, not left kept by a closed manager");
  });

  it("a run killed through its groups (frozen on the way) leaves none to keep", async (t) => {
    if (manager?.version !== 1) return t.skip("cgroup v2");
    const run = manager.create();
    const freezer = groupWith(run, "freezer.state");
    const cpuacct = groupWith(run, "cpuacct.usage")!;
    const sleeper = joined(run, "exec sleep 30");
    for (let i = 0; i < 200 && !run.cgroup.pids().includes(sleeper.pid); i++) await new Promise((r) => setTimeout(r, 10));
    await run.killAll();
    await sleeper.exited;
    await run.destroy();
    assert.ok(!existsSync(cpuacct) && (!freezer || !existsSync(freezer)), "removed, not kept");
    const next = manager.create();
    try {
      assert.notEqual(groupWith(next, "cpuacct.usage"), cpuacct);
      if (freezer) assert.equal(readFileSync(join(groupWith(next, "freezer.state")!, "freezer.state"), "utf8").trim(), "THAWED");
    } finally {
      await next.destroy();
      manager.close();
    }
  });
});

const bwrapWhy = !isRoot ? "needs root" : !existsSync(ROOTFS) ? "no runtime rootfs" : false;
describe("bwrap engine on kept groups", { skip: bwrapWhy }, () => {
  it("a trivial run after a CPU-heavy one in the same session is charged its own CPU time only", async () => {
    const engine = createBwrapEngine({ cgroupRoot: PARENT });
    const session = await engine.open();
    try {
      const limits = { cpuTimeMs: 5_000, wallTimeMs: 20_000, memoryBytes: 64 << 20, outputBytes: 4096, processes: 8, fileSizeBytes: 4096 };
      const heavy = await session.run({ argv: ["/bin/sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"], stdin: "", limits });
      assert.equal(heavy.exitCode, 0);
      assert.ok(heavy.cpuTimeMs >= 50, `heavy ${heavy.cpuTimeMs} ms`);
      for (let i = 0; i < 3; i++) {
        const light = await session.run({ argv: ["/bin/true"], stdin: "", limits });
        assert.equal(light.exitCode, 0);
        assert.ok(light.cpuTimeMs < 20, `light ${light.cpuTimeMs} ms after heavy ${heavy.cpuTimeMs} ms`);
      }
    } finally {
      await session.dispose();
      await engine.close();
    }
  });
});
