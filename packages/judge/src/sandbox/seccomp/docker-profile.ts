// The Docker engine's seccomp profile: the same policy (policy.ts) as the bwrap
// engine's filter, in the profile JSON format Docker hands to runc (which compiles it
// with libseccomp, as seccomp-gen.c does for bwrap). It replaces Docker's default
// profile, so both engines deny exactly the same calls with the same errnos.
// Known difference: runc resolves syscalls by name with the host's libseccomp and
// skips names it does not know (open_tree_attr on libseccomp 2.5); the test probes say
// what each engine answers.
import { ERRNO, SECCOMP_RULES, type ArgCompare, type SeccompRule } from "./policy.js";

interface ProfileArg {
  index: number;
  value: number;
  valueTwo: number;
  op: "SCMP_CMP_EQ" | "SCMP_CMP_GE" | "SCMP_CMP_MASKED_EQ";
}

interface ProfileSyscall {
  names: string[];
  action: "SCMP_ACT_ERRNO";
  errnoRet: number;
  args: ProfileArg[];
}

export interface DockerSeccompProfile {
  defaultAction: "SCMP_ACT_ALLOW";
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

export function dockerSeccompProfile(rules: readonly SeccompRule[] = SECCOMP_RULES): DockerSeccompProfile {
  return {
    defaultAction: "SCMP_ACT_ALLOW",
    // Only native x86_64: libseccomp kills every other ABI (i386, and x32 on an x86_64 filter).
    architectures: ["SCMP_ARCH_X86_64"],
    syscalls: rules.map((r) => ({ names: [r.syscall.name], action: "SCMP_ACT_ERRNO", errnoRet: ERRNO[r.errno], args: (r.when ?? []).map(profileArg) })),
  };
}

/** The SecurityOpt entry ("seccomp=<json>") for a container. */
export function dockerSeccompOption(): string {
  return `seccomp=${JSON.stringify(dockerSeccompProfile())}`;
}
