// The one seccomp policy in its two forms: bwrap's filter (allow by default, deny the
// policy's rules) and the Docker profile (ENOSYS by default, allow every known call,
// deny the policy's rules). Evaluated here call by call and argument value by value,
// they must answer the same; and a profile naming calls the runtime's libseccomp does
// not know must still start a container, with those calls denied (ENOSYS).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import Docker from "dockerode";
import { createDockerEngine } from "../src/engines/docker/engine.js";
import { dockerSeccompOption, dockerSeccompProfile, type DockerSeccompProfile } from "../src/sandbox/seccomp/docker-profile.js";
import { ERRNO, NAMESPACE_CLONE_FLAGS, SECCOMP_RULES, type ArgCompare } from "../src/sandbox/seccomp/policy.js";
import { X86_64_SYSCALLS } from "../src/sandbox/seccomp/x86_64-syscalls.js";
import { dockerSkipReason } from "./docker.availability.js";

const U64 = (1n << 64n) - 1n;

function holds(c: ArgCompare, value: bigint): boolean {
  if (c.op === "masked_eq") return (value & c.mask) === c.value;
  return c.op === "eq" ? value === c.value : value >= c.value;
}

/** bwrap's form: the first matching denial's errno, else allowed. */
function filterAnswer(name: string, arg0: bigint): number | "allow" {
  const rule = SECCOMP_RULES.find((r) => r.syscall.name === name && (r.when ?? []).every((c) => holds(c, arg0)));
  return rule ? ERRNO[rule.errno] : "allow";
}

/** Docker's form, as libseccomp compiles it; matching allow and deny entries at once would be a conflict. */
function profileAnswer(profile: DockerSeccompProfile, name: string, arg0: bigint): number | "allow" {
  const matching = profile.syscalls.filter(
    (s) =>
      s.names.includes(name) &&
      s.args.every((a) => {
        const c: ArgCompare = a.op === "SCMP_CMP_MASKED_EQ" ? { arg: a.index, op: "masked_eq", mask: BigInt(a.value), value: BigInt(a.valueTwo) } : { arg: a.index, op: a.op === "SCMP_CMP_EQ" ? "eq" : "ge", value: BigInt(a.value) };
        return holds(c, arg0);
      }),
  );
  const actions = new Set(matching.map((s) => (s.action === "SCMP_ACT_ALLOW" ? "allow" : s.errnoRet)));
  assert.ok(actions.size <= 1, `${name}(${arg0.toString(16)}): conflicting entries ${JSON.stringify(matching)}`);
  const [only] = actions;
  return only === undefined ? profile.defaultErrnoRet : (only as number | "allow");
}

/** Argument values around every boundary the policy draws, plus random 64-bit ones. */
function samples(): bigint[] {
  const out = new Set<bigint>([U64, 0xffffffffn, 0x7fffffffn]);
  for (let v = 0n; v <= 70n; v++) out.add(v);
  for (let bit = 0n; bit < 64n; bit++) {
    out.add(1n << bit);
    out.add(U64 ^ (1n << bit));
    out.add(0xffffffffn ^ (1n << bit));
    out.add(0x80000000n | (1n << bit));
    out.add((1n << 32n) | (1n << bit));
  }
  for (const [, flag] of NAMESPACE_CLONE_FLAGS) out.add(BigInt(flag) | 0x11n);
  let seed = 0x9e3779b97f4a7c15n;
  for (let i = 0; i < 300; i++) {
    seed = (seed * 6364136223846793005n + 1442695040888963407n) & U64;
    out.add(seed);
    out.add(seed & 0xffffffffn);
  }
  return [...out];
}

describe("seccomp policy: one policy, two forms", () => {
  it("the syscall table agrees with the policy's numbers and has no duplicates", () => {
    const byName = new Map(X86_64_SYSCALLS.map((s) => [s.name, s.nr]));
    assert.equal(byName.size, X86_64_SYSCALLS.length, "unique names");
    assert.equal(new Set(X86_64_SYSCALLS.map((s) => s.nr)).size, X86_64_SYSCALLS.length, "unique numbers");
    for (const rule of SECCOMP_RULES) assert.equal(byName.get(rule.syscall.name), rule.syscall.nr, rule.syscall.name);
  });

  it("the Docker profile answers every call and argument exactly as the bwrap filter does", () => {
    const profile = dockerSeccompProfile();
    assert.equal(profile.defaultErrnoRet, ERRNO.ENOSYS);
    const conditional = new Set(SECCOMP_RULES.filter((r) => r.when?.length).map((r) => r.syscall.name));
    const values = samples();
    for (const { name } of X86_64_SYSCALLS) {
      for (const arg0 of conditional.has(name) ? values : [0n]) {
        assert.equal(profileAnswer(profile, name, arg0), filterAnswer(name, arg0), `${name}(0x${arg0.toString(16)})`);
      }
    }
  });

  it("a call missing from the table is ENOSYS on Docker (denied by default), never allowed", () => {
    const profile = dockerSeccompProfile({ syscalls: X86_64_SYSCALLS.filter((s) => s.name !== "getpid") });
    assert.equal(profileAnswer(profile, "getpid", 0n), ERRNO.ENOSYS);
    assert.equal(profileAnswer(profile, "a_call_from_the_future", 0n), ERRNO.ENOSYS);
  });

  it("refuses a conditional denial without its allowed complement (it would deny the whole call)", () => {
    assert.throws(() => dockerSeccompProfile({ allow: [] }), /without an allow rule/);
  });
});

const docker = new Docker();
const unavailable = await dockerSkipReason(createDockerEngine({ docker }));

describe("seccomp profile on the Docker daemon", { skip: unavailable ?? false }, () => {
  it("starts with names the runtime's libseccomp does not know, and those calls (open_tree_attr too) are denied", async () => {
    // A name no libseccomp knows, allowed and denied; the runtime skips both and the default answers.
    const option = dockerSeccompOption({
      syscalls: [...X86_64_SYSCALLS, { name: "sonocode_future_call", nr: 1023 }],
      rules: [...SECCOMP_RULES, { syscall: { name: "sonocode_denied_future_call", nr: 1022 }, errno: "EPERM", group: "admin" }],
    });
    const script = [
      "import ctypes, os",
      "libc = ctypes.CDLL(None, use_errno=True)",
      "def call(nr, *args):",
      "    r = libc.syscall(nr, *args)",
      "    return 'ok' if r >= 0 else os.strerror(ctypes.get_errno())",
      // open_tree_attr (Linux 6.15, unknown to libseccomp 2.5), ptrace, a vsock socket, an inet socket, getpid.
      "print(call(467, -100, b'/tmp', 1, 0, 0), call(101, 0, 0, 0, 0), call(41, 40, 1, 0), call(41, 2, 1, 0), call(39))",
    ].join("\n");
    const container = await docker.createContainer({
      Image: "sonocode-runtime:latest",
      Cmd: ["/usr/bin/python3", "-c", script],
      User: "65534:65534",
      Labels: { "org.sonocode.judge.test": "seccomp" },
      HostConfig: { NetworkMode: "none", CapDrop: ["ALL"], SecurityOpt: ["no-new-privileges", option] },
    });
    try {
      await container.start();
      const { StatusCode } = (await container.wait()) as { StatusCode: number };
      const logs = (await container.logs({ stdout: true, stderr: true })).toString("latin1");
      assert.equal(StatusCode, 0, logs);
      // ENOSYS for the call the runtime cannot name; the policy's own errnos elsewhere.
      assert.match(logs, /Function not implemented Operation not permitted Address family not supported by protocol ok ok/);
    } finally {
      await container.remove({ force: true });
    }
  });
});
