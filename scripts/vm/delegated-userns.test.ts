// What an unprivileged evaluator could do on cgroup v2 with a delegated subtree and user
// namespaces, step by step, with the kernel's own tools (util-linux), not the judge: the
// bwrap engine's supervisor needs host root today, and this says how far the kernel would
// let it go without. Run by `npm run test:vm` as the guest's user "judge" inside its
// delegated group (systemd's Delegate=yes); skipped everywhere else (root, cgroup v1).
//
// Proven here, as that user: a run group of its own under the delegated subtree with
// memory/pids limits (and an OOM kill seen in memory.events), joined from inside a user
// namespace (the user mapped to root there); fresh mount, pid, net, ipc, uts and cgroup
// namespaces owned by it; a
// read-only overlay of the runtime rootfs, tmpfs /tmp and /box, /proc of the new pid
// namespace (mounted before the pivot: the kernel wants a fully visible procfs in view),
// /dev from binds of the host's nodes (no mknod in a user namespace), pivot_root into it;
// only loopback. And what it cannot do: switch to any other uid (one uid is mapped; per-slot
// sandbox uids would need subordinate ids through the setuid newuidmap helper).
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";

const CG = "/sys/fs/cgroup";
const ROOTFS = process.env.SONOCODE_TEST_ROOTFS ?? "/var/lib/sonocode/runtime/rootfs";
const uid = process.getuid?.() ?? 0;

function skipReason(): string | false {
  if (process.env.SONOCODE_TEST_CGROUP_V2 !== "1") return "only in the cgroup v2 test guest (npm run test:vm)";
  if (uid === 0) return "proves the unprivileged path: run as a delegated user";
  if (!existsSync(`${CG}/cgroup.controllers`)) return "no cgroup2 at /sys/fs/cgroup";
  if (!existsSync(join(ROOTFS, "usr/bin/python3"))) return `no runtime rootfs at ${ROOTFS}`;
  return false;
}

/** The top of the subtree delegated to us: the highest ancestor of our group that we own. */
function delegatedRoot(): string {
  const own = readFileSync("/proc/self/cgroup", "utf8").trim().split("\n").find((l) => l.startsWith("0::"));
  assert.ok(own, "a cgroup2 line in /proc/self/cgroup");
  let dir = join(CG, own.slice(3));
  assert.equal(statSync(dir).uid, uid, `our group ${dir} is delegated to us`);
  while (dirname(dir) !== CG && statSync(dirname(dir)).uid === uid) dir = dirname(dir);
  return dir;
}

/** A run group under the delegated root, with memory and pids limits (no process stays in a group whose controllers we enable). */
function makeRunGroup(root: string, name: string, memoryBytes: number): string {
  const leaf = join(root, "sonocode-judge");
  mkdirSync(leaf, { recursive: true });
  for (const pid of readFileSync(join(root, "cgroup.procs"), "utf8").split("\n").filter(Boolean)) {
    try {
      writeFileSync(join(leaf, "cgroup.procs"), pid);
    } catch {
      // gone meanwhile
    }
  }
  for (const c of ["memory", "pids"]) writeFileSync(join(root, "cgroup.subtree_control"), `+${c}`);
  const group = join(root, name);
  mkdirSync(group, { recursive: true });
  writeFileSync(join(group, "memory.max"), String(memoryBytes));
  if (existsSync(join(group, "memory.swap.max"))) writeFileSync(join(group, "memory.swap.max"), "0");
  writeFileSync(join(group, "pids.max"), "32");
  return group;
}

// Runs inside the new namespaces, as the user mapped to root. $1 scratch dir, $2 rootfs.
const INSIDE = String.raw`
set -eu
t=$1 rootfs=$2
mount --make-rprivate /
mount -t tmpfs -o size=1m,mode=755 scratch "$t"
mkdir "$t/root" "$t/e"
mount -t overlay -o ro,lowerdir="$rootfs:$t/e" sonocode-rootfs "$t/root"
for d in dev tmp box; do mount -t tmpfs -o size=16m,mode=755 "sonocode-$d" "$t/root/$d"; done
for n in null zero urandom; do touch "$t/root/dev/$n"; mount --bind "/dev/$n" "$t/root/dev/$n"; done
mount -t proc proc "$t/root/proc"
cd "$t/root"
pivot_root . .
umount -l .
cd /
echo "uid=$(id -u) pid=$$ root=$(awk '$5 == "/" { print $9 }' /proc/self/mountinfo)"
touch /usr/x 2>/dev/null && echo root-writable || echo root-read-only
echo "net=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\n' ' ')"
/usr/bin/python3 -c '
import errno, os
try:
    os.setresuid(1, 1, 1)
    print("other-uid-ok")
except OSError as e:
    print("other-uid-refused", errno.errorcode[e.errno])'
/usr/bin/python3 -c 'import sys; b = bytearray(200 << 20); b[::4096] = b"x" * len(b[::4096]); print("hog-survived")' || echo "hog-exit=$?"
`;

test("delegated user on cgroup v2: run group + user namespace + overlay root + pivot_root, but one uid only", { skip: skipReason() }, () => {
  const root = delegatedRoot();
  const group = makeRunGroup(root, `userns-probe-${process.pid}`, 64 << 20);
  const scratch = mkdtempSync(join(tmpdir(), "userns-probe-"));
  const script = join(scratch, "inside.sh");
  const mnt = join(scratch, "mnt");
  mkdirSync(mnt);
  writeFileSync(script, INSIDE);
  try {
    // In the order a user-namespaced supervisor would take: the user namespace first, then
    // the move into the run group from inside it (we own its cgroup.procs and the common
    // ancestor's; the supervisor would clone3 straight into it), then the other namespaces
    // (the cgroup one last of all, rooted at the run group).
    const result = spawnSync(
      "unshare",
      ["--user", "--map-root-user", "sh", "-c", 'echo $$ > "$1/cgroup.procs" && exec unshare --mount --pid --net --ipc --uts --cgroup --fork --kill-child sh "$2" "$3" "$4"', "sh", group, script, mnt, ROOTFS],
      { encoding: "utf8", timeout: 120_000 },
    );
    const out = `${result.stdout}\n${result.stderr}`;
    assert.equal(result.status, 0, out);
    assert.match(result.stdout, /^uid=0 pid=1 root=sonocode-rootfs$/m, out);
    assert.match(result.stdout, /^root-read-only$/m, out);
    assert.match(result.stdout, /net=lo $/m, out);
    // One uid is mapped: a second sandbox uid is impossible without newuidmap (setuid root) and /etc/subuid.
    assert.match(result.stdout, /^other-uid-refused EINVAL$/m, out);
    assert.match(result.stdout, /^hog-exit=137$/m, `the memory hog was killed: ${out}`);
    const events = readFileSync(join(group, "memory.events"), "utf8");
    assert.ok(Number(/oom_kill (\d+)/.exec(events)?.[1] ?? 0) >= 1, events);
    assert.ok(!existsSync(join(ROOTFS, "usr/x")));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    try {
      execFileSync("rmdir", [group]);
    } catch {
      // a process still dying in it: the next boot is a fresh guest anyway
    }
  }
});
