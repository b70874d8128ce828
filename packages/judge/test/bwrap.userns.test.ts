// The bwrap engine without root (engines/bwrap/userns.ts, native/userns-view.c):
//  - everywhere: the /etc/subuid parsing, the per-slot id maps, and every refusal (no
//    user namespaces, no newuidmap, no subordinate ids, too few), as typed errors;
//  - as root (any host): a judge started as `nobody` refuses with that typed error, never
//    with the old "must run as root" and never by sandboxing under one shared uid;
//  - as an unprivileged user on cgroup v2 with a delegated subtree (the VM's user plan,
//    `npm run test:vm`): sessions run each program as a subordinate uid of its own slot,
//    never the evaluator's; /box is written through the supervisor; no nested user namespace.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createBwrapEngine, type RunLimits, type SandboxEngine, type SandboxSession } from "../src/index.js";
import { HELPER_UID_OFFSET, mapArguments, parseSubordinateIds, resolveUserns, UserNamespaceUnavailableError, type UsernsProbe } from "../src/engines/bwrap/userns.js";

const LIMITS: RunLimits = { cpuTimeMs: 3_000, wallTimeMs: 8_000, memoryBytes: 256 << 20, outputBytes: 1 << 20, processes: 16, fileSizeBytes: 1 << 20 };
const uid = process.getuid?.() ?? 0;
const ROOTFS = process.env.SONOCODE_TEST_ROOTFS ?? "/var/lib/sonocode/runtime/rootfs";

describe("unprivileged bwrap: subordinate ids and refusals", () => {
  const scratch = mkdtempSync(join(tmpdir(), "userns-unit-"));
  const tools = join(scratch, "bin");
  mkdirSync(tools);
  for (const tool of ["newuidmap", "newgidmap"]) {
    writeFileSync(join(tools, tool), "#!/bin/sh\nexit 0\n");
    chmodSync(join(tools, tool), 0o755);
  }
  const sys = (values: Record<string, string>) => {
    const dir = mkdtempSync(join(scratch, "sys-"));
    for (const [file, value] of Object.entries(values)) {
      mkdirSync(join(dir, file, ".."), { recursive: true });
      writeFileSync(join(dir, file), `${value}\n`);
    }
    return dir;
  };
  const user = { name: "judge", uid: 1000, gid: 1000 };
  const probe = (over: Partial<UsernsProbe>): UsernsProbe => ({ user, toolDirs: [tools], procSys: sys({}), subuid: "judge:100000:65536\n", subgid: "judge:200000:65536\n", ...over });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it("parses the user's ranges by name or uid, skipping comments, other users and malformed lines", () => {
    const text = ["# comment", "other:1:65536", "judge:100000:65536", "1000:300000:4096", "judge:x:1", "judge:5:0", "judge:0:10", "judge:1:2:3", ""].join("\n");
    assert.deepEqual(parseSubordinateIds(text, { name: "judge", id: 1000 }), [
      { start: 100000, count: 65536 },
      { start: 300000, count: 4096 },
    ]);
    assert.deepEqual(parseSubordinateIds("judge:4294967000:1000\n", { name: "judge", id: 1 }), [], "beyond 32 bits");
  });

  it("maps ns 0 to the evaluator and each slot's program and helper ids to subordinate ids of their own", () => {
    const identity = resolveUserns(probe({}));
    assert.deepEqual(identity.uids, { start: 100000, count: 65536 });
    const slot3 = mapArguments(identity, { slot: 3, program: 61_003, helper: 62_003 });
    assert.deepEqual(slot3.uid, ["0", "1000", "1", "61003", "100003", "1", "62003", String(100000 + HELPER_UID_OFFSET + 3), "1"]);
    assert.deepEqual(slot3.gid, ["0", "1000", "1", "61003", "200003", "1", "62003", String(200000 + HELPER_UID_OFFSET + 3), "1"]);
    const slot4 = mapArguments(identity, { slot: 4, program: 61_004, helper: 62_004 });
    const hosts = (args: string[]) => [args[4], args[7]];
    assert.equal(new Set([...hosts(slot3.uid), ...hosts(slot4.uid), String(user.uid)]).size, 5, "no two identities share a host uid");
  });

  it("refuses, naming the fix: user namespaces off, no newuidmap, no subuid or subgid entry, too few ids, a slot beyond the range", () => {
    const refused = (over: Partial<UsernsProbe>, reason: string, message: RegExp) =>
      assert.throws(() => resolveUserns(probe(over)), (error: unknown) => error instanceof UserNamespaceUnavailableError && error.reason === reason && message.test(error.message));
    refused({ procSys: sys({ "user/max_user_namespaces": "0" }) }, "user-namespaces-disabled", /max_user_namespaces is 0/);
    refused({ procSys: sys({ "kernel/unprivileged_userns_clone": "0" }) }, "user-namespaces-disabled", /unprivileged_userns_clone/);
    refused({ procSys: sys({ "kernel/apparmor_restrict_unprivileged_userns": "1" }) }, "user-namespaces-disabled", /AppArmor/);
    refused({ toolDirs: [join(scratch, "none")] }, "no-newuidmap", /apt-get install uidmap/);
    refused({ subuid: "other:100000:65536\n" }, "no-subuid", /\/etc\/subuid gives the user judge no subordinate ids: add a line "judge:100000:65536"/);
    refused({ subgid: "" }, "no-subgid", /\/etc\/subgid/);
    refused({ subuid: `judge:100000:${HELPER_UID_OFFSET}\n` }, "too-few-ids", /no range of more than 1000 ids/);
    const small = resolveUserns(probe({ subuid: `judge:100000:${HELPER_UID_OFFSET + 2}\n` }));
    assert.doesNotThrow(() => mapArguments(small, { slot: 1, program: 61_001, helper: 62_001 }));
    assert.throws(() => mapArguments(small, { slot: 2, program: 61_002, helper: 62_002 }), (error: unknown) => error instanceof UserNamespaceUnavailableError && error.reason === "too-few-ids");
  });

  it("a judge started as nobody refuses with the typed error, before any sandbox exists", { skip: uid !== 0 ? "needs root to start a process as nobody" : !existsSync(ROOTFS) && "no runtime rootfs" }, () => {
    const work = mkdtempSync(join(scratch, "work-"));
    chmodSync(scratch, 0o755);
    chmodSync(work, 0o777);
    const child = join(import.meta.dirname, "userns-refusal.child.ts");
    const result = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, "--import", "tsx", child, join(work, "root")], {
      encoding: "utf8",
      timeout: 60_000,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: work, TMPDIR: work },
    });
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
    const report = JSON.parse(result.stdout.trim().split("\n").pop() ?? "{}") as { name?: string; reason?: string; message?: string };
    // nobody has no subordinate ids anywhere (and this host may lack newuidmap or cgroup v2 as well).
    assert.equal(report.name, "SandboxError", result.stdout);
    assert.ok(["no-newuidmap", "no-subuid", "no-subgid", "user-namespaces-disabled", "cgroup"].includes(report.reason ?? ""), result.stdout);
    assert.doesNotMatch(report.message ?? "", /must run as root/);
  });
});

/** The unprivileged engine for real: only as a delegated user on cgroup v2 (the VM's user plan). */
function engineSkip(): string | false {
  if (uid === 0) return "root takes the root path (bwrap.supervisor.test.ts and the other suites)";
  if (!existsSync("/sys/fs/cgroup/cgroup.controllers")) return "an unprivileged judge needs cgroup v2";
  if (!existsSync(ROOTFS)) return "no runtime rootfs";
  return false;
}

/** Host uids of the sonocode supervisors this process started (their /proc/<pid>/status; other judges' are not ours). */
function supervisorUids(): number[] {
  const uids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "latin1") !== "sonocode-supervisor\0") continue;
      const status = readFileSync(`/proc/${entry}/status`, "utf8");
      if (Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]) !== process.pid) continue;
      uids.push(Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]));
    } catch {
      /* gone meanwhile */
    }
  }
  return uids;
}

// What the program prints: its uid inside, the host uid that maps to, and whether it may make a user namespace.
const WHO = [
  "import ctypes, os",
  "me = os.getuid()",
  "host = next(int(h) + me - int(n) for n, h, c in (l.split() for l in open('/proc/self/uid_map')) if int(n) <= me < int(n) + int(c))",
  "libc = ctypes.CDLL(None, use_errno=True)",
  "nested = 'allowed' if libc.unshare(0x10000000) == 0 else str(ctypes.get_errno())",  // CLONE_NEWUSER
  "print(me, host, nested)",
].join("\n");

describe("unprivileged bwrap engine (user namespace, delegated cgroup v2)", { skip: engineSkip(), concurrency: false }, () => {
  let engine: SandboxEngine;
  let a: SandboxSession;
  let b: SandboxSession;
  const run = async (session: SandboxSession, code: string) => {
    const out = await session.run({ argv: ["/usr/bin/python3", "-c", code], stdin: "", limits: LIMITS });
    return { ...out, stdout: out.stdout.toString("utf8"), stderr: out.stderr.toString("utf8") };
  };

  before(async () => {
    engine = createBwrapEngine({});
    a = await engine.open();
    b = await engine.open();
  });
  after(async () => {
    await a?.dispose();
    await b?.dispose();
    await engine?.close();
  });

  it("each slot's program runs as a subordinate uid of its own, never the evaluator's; supervisors are the evaluator's uid; no nested user namespace", async () => {
    const [first, second] = await Promise.all([run(a, WHO), run(b, WHO)]);
    const parse = (stdout: string) => stdout.trim().split(" ");
    const [innerA, hostA, nestedA] = parse(first.stdout);
    const [innerB, hostB, nestedB] = parse(second.stdout);
    assert.equal(first.exitCode, 0, first.stderr);
    assert.equal(second.exitCode, 0, second.stderr);
    assert.notEqual(innerA, "0");
    assert.notEqual(innerA, innerB, "two slots, two uids inside");
    assert.notEqual(Number(hostA), uid, "the program is not the evaluator's uid on the host");
    assert.notEqual(Number(hostB), uid);
    assert.notEqual(hostA, hostB, "two slots, two host uids");
    assert.equal(nestedA, "1", "EPERM: the seccomp policy refuses a nested user namespace");
    assert.equal(nestedB, "1");
    const uids = supervisorUids();
    assert.ok(uids.length >= 2, `two supervisors (${uids.join(",")})`);
    for (const seen of uids) assert.equal(seen, uid, "the supervisors run as the evaluator, never as a program's uid");
  });

  it("the work dir is written by the supervisor: never over an existing name or through a planted symlink", async () => {
    const source = "print(len(open('/box/main.py').read()))\n";
    await a.writeFile("main.py", source);
    const planted = await a.run({ argv: ["/bin/sh", "-c", "ln -s /tmp/elsewhere /box/link && ls -ln /box/main.py"], stdin: "", limits: LIMITS });
    assert.equal(planted.exitCode, 0, planted.stderr.toString());
    await assert.rejects(a.writeFile("main.py", "x"), /errno 17/);
    await assert.rejects(a.writeFile("link", "x"), /errno 17/);
    await assert.rejects(a.writeFile("../x", "x"), /invalid sandbox file name/);
    const out = await a.run({ argv: ["/usr/bin/python3", "/box/main.py"], stdin: "", limits: LIMITS, writableWorkDir: false });
    assert.equal(out.stdout.toString(), `${source.length}\n`, `${out.stderr.toString()} ${JSON.stringify({ exit: out.exitCode, signal: out.signal, watchdog: out.watchdog, cpu: out.cpuTimeMs })}`);
  });
});
