// The bwrap engine's own host filesystems (src/engines/bwrap/host-mounts.ts): a
// session's work dir is a size-capped tmpfs of its own, mounted by its supervisor in its
// own mount namespace (nothing of it on the host), the engine's mounts are gone after
// close(), and mounts left by a judge process that died are removed by the next engine
// start. Needs root and the runtime rootfs.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statfsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createBwrapEngine, type RunLimits } from "../src/index.js";
import { asText } from "./run-text.js";

const WORK_ROOT = join(tmpdir(), "sonocode-judge");
const LIMITS: RunLimits = { cpuTimeMs: 3_000, wallTimeMs: 8_000, memoryBytes: 256 << 20, outputBytes: 1 << 20, processes: 16, fileSizeBytes: 64 << 20 };

/** Mount points under the work root owned by `pid`. */
function mountsOf(pid: number): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((p) => p.startsWith(`${WORK_ROOT}/`) && new RegExp(`/[msd]-${pid}-[0-9a-f]+(/|$)`).test(p));
}

describe("bwrap host mounts", { concurrency: false }, () => {
  it("the work dir is a size-capped tmpfs of its own, not on the host; close() and dispose() leave no mount behind", async () => {
    const engine = createBwrapEngine({ workDirBytes: 8 << 20 });
    try {
      const session = await engine.open();
      const spec = { argv: ["/bin/sh", "-c", "head -c 16000000 /dev/zero > /box/big; echo $?; grep ' /box ' /proc/self/mountinfo"], stdin: "", limits: LIMITS, writableWorkDir: true };
      const run = asText(await session.run(spec), spec);
      const [status, line] = run.stdout.split("\n");
      assert.notEqual(status, "0", "writing past the work dir's cap must fail");
      assert.match(line ?? "", /^\S+ \S+ \S+ \/ \/box .* - tmpfs sonocode-box \S*size=8192k/);
      const host = readFileSync("/proc/self/mountinfo", "utf8");
      assert.equal(mountsOf(process.pid).length, 2, "rootfs and dev are mounted on the host, the session's work dir is not");
      assert.doesNotMatch(host, / - tmpfs sonocode-box /, "no work dir tmpfs in the host's mount namespace");
      await session.dispose();
    } finally {
      await engine.close();
    }
    assert.deepEqual(mountsOf(process.pid), []);
  });

  it("cgroup v1: the engine holds one favordynmods hierarchy while it lives, in no mount table, and lets it go at close()", async (t) => {
    if (existsSync("/sys/fs/cgroup/cgroup.controllers")) return t.skip("cgroup v2: runs are cloned into their cgroup, no migration to favour");
    const held = () => /:name=sonocode-dynmods:/.test(readFileSync("/proc/self/cgroup", "utf8"));
    // What this process holds: a descriptor of the hierarchy's root (the hierarchy itself is
    // shared by name with every other judge on the host, so whether it still exists after our
    // close() depends on them: another test file's engine, running in parallel, keeps it).
    // (Detached, its root reads as "/": told apart by its filesystem, cgroup v1's CGROUP_SUPER_MAGIC.)
    const ours = () =>
      readdirSync("/proc/self/fd").filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === "/" && statfsSync(`/proc/self/fd/${fd}`).type === 0x27e0eb;
        } catch {
          return false;
        }
      }).length;
    const engine = createBwrapEngine({});
    try {
      await engine.check();
      // No session is open here: the flag belongs to the engine, not to each session (whose open it cost ~30 ms).
      assert.ok(held(), "a sonocode-dynmods hierarchy exists while the engine is open");
      assert.equal(ours(), 1, "the engine holds it by one descriptor");
      assert.doesNotMatch(readFileSync("/proc/self/mountinfo", "utf8"), /sonocode-dynmods/, "it is mounted nowhere");
    } finally {
      await engine.close();
    }
    assert.equal(ours(), 0, "let go at close()");
  });

  it("mounts of a judge process that is gone are removed at the next engine start", async () => {
    // A pid that existed and is gone now.
    const dead = spawnSync("/bin/sh", ["-c", "echo $$"], { encoding: "utf8" });
    const pid = Number(dead.stdout.trim());
    assert.ok(pid > 0);
    const leftovers = [join(WORK_ROOT, `s-${pid}-0123456789ab`), join(WORK_ROOT, `m-${pid}-0123456789ab`)];
    mkdirSync(WORK_ROOT, { recursive: true });
    for (const dir of leftovers) {
      mkdirSync(dir);
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "sonocode-test", dir]);
    }
    mkdirSync(join(leftovers[1]!, "inner"));
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "sonocode-test", join(leftovers[1]!, "inner")]);
    assert.equal(mountsOf(pid).length, 3);
    const engine = createBwrapEngine({});
    try {
      await engine.check();
    } finally {
      await engine.close();
    }
    assert.deepEqual(mountsOf(pid), []);
    for (const dir of leftovers) assert.ok(!existsSync(dir), `${dir} removed`);
  });
});
