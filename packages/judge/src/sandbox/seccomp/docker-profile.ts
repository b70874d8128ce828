// The Docker engine's seccomp profile: the same policy (policy.ts) as the bwrap
// engine's filter, in the profile JSON format Docker hands to runc (which compiles it
// with libseccomp, as seccomp-gen.c does for bwrap). It replaces Docker's default
// profile, so both engines deny the same calls with the same errnos.
//
// Why an allowlist, when bwrap's filter is "allow, deny these": runc resolves every
// syscall by *name* with the host's libseccomp and silently skips names it does not
// know (libseccomp 2.5 knows nothing past Linux 6.1: open_tree_attr, 467, is one), so
// a denylist profile would leave exactly the newest calls allowed. Here the default
// is ENOSYS ("this kernel has no such call", which runtimes handle), every known call
// is allowed by name, and the policy's denials keep their own errnos. A name the
// runtime cannot resolve is then skipped into the default: denied, and the container
// still starts. The price: calls newer than the runtime's libseccomp that the policy
// allows (fchmodat2, cachestat, ... on libseccomp 2.5) are ENOSYS on Docker only, and
// glibc falls back for the ones it uses.
import { CONDITIONAL_ALLOW, ERRNO, SECCOMP_RULES, type AllowRule, type ArgCompare, type SeccompRule } from "./policy.js";
import { X86_64_SYSCALLS } from "./x86_64-syscalls.js";
import type { SyscallRef } from "./policy.js";

interface ProfileArg {
  index: number;
  value: number;
  valueTwo: number;
  op: "SCMP_CMP_EQ" | "SCMP_CMP_GE" | "SCMP_CMP_MASKED_EQ";
}

interface ProfileSyscall {
  names: string[];
  action: "SCMP_ACT_ALLOW" | "SCMP_ACT_ERRNO";
  errnoRet?: number;
  args: ProfileArg[];
}

export interface DockerSeccompProfile {
  defaultAction: "SCMP_ACT_ERRNO";
  defaultErrnoRet: number;
  architectures: string[];
  syscalls: ProfileSyscall[];
}

function profileArg(c: ArgCompare): ProfileArg {
  // Every value in the policy fits a double exactly (at most 2^32 + small); assert it.
  const num = (v: bigint) => {
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error("seccomp value out of JSON range");
    return Number(v);
  };
  if (c.op === "masked_eq") return { index: c.arg, op: "SCMP_CMP_MASKED_EQ", value: num(c.mask), valueTwo: num(c.value) };
  return { index: c.arg, op: c.op === "eq" ? "SCMP_CMP_EQ" : "SCMP_CMP_GE", value: num(c.value), valueTwo: 0 };
}

export interface ProfileInputs {
  rules?: readonly SeccompRule[];
  allow?: readonly AllowRule[];
  /** Every syscall of the architecture (the allowlist's universe). */
  syscalls?: readonly SyscallRef[];
}

export function dockerSeccompProfile(inputs: ProfileInputs = {}): DockerSeccompProfile {
  const rules = inputs.rules ?? SECCOMP_RULES;
  const allow = inputs.allow ?? CONDITIONAL_ALLOW;
  const universe = inputs.syscalls ?? X86_64_SYSCALLS;
  // Calls the policy names at all are never allowed wholesale: an unconditional
  // denial stays denied, a conditional one is allowed only where CONDITIONAL_ALLOW says.
  const named = new Set(rules.map((r) => r.syscall.name));
  const conditional = new Set(rules.filter((r) => r.when && r.when.length > 0).map((r) => r.syscall.name));
  const missing = [...conditional].filter((name) => !allow.some((a) => a.syscall.name === name));
  if (missing.length > 0) throw new Error(`seccomp: conditionally denied calls without an allow rule: ${missing.join(", ")}`);
  return {
    defaultAction: "SCMP_ACT_ERRNO",
    defaultErrnoRet: ERRNO.ENOSYS,
    // Only native x86_64: libseccomp kills every other ABI (i386, and x32 on an x86_64 filter).
    architectures: ["SCMP_ARCH_X86_64"],
    syscalls: [
      { names: universe.map((s) => s.name).filter((name) => !named.has(name)), action: "SCMP_ACT_ALLOW", args: [] },
      ...allow.map((a): ProfileSyscall => ({ names: [a.syscall.name], action: "SCMP_ACT_ALLOW", args: a.when.map(profileArg) })),
      ...rules.map((r): ProfileSyscall => ({ names: [r.syscall.name], action: "SCMP_ACT_ERRNO", errnoRet: ERRNO[r.errno], args: (r.when ?? []).map(profileArg) })),
    ],
  };
}

/** The SecurityOpt entry ("seccomp=<json>") for a container. */
export function dockerSeccompOption(inputs?: ProfileInputs): string {
  return `seccomp=${JSON.stringify(dockerSeccompProfile(inputs))}`;
}
