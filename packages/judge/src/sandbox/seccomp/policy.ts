// The one seccomp policy of every sandbox engine, as data. Two generators read it:
// bpf.ts feeds it to native/seccomp-gen.c, which compiles it with libseccomp into
// the classic-BPF program bwrap installs (--seccomp), and docker-profile.ts turns it
// into the Docker seccomp profile JSON each container gets (SecurityOpt seccomp=...).
// Tests probe every rule class from inside both engines (test/seccomp.probes.ts).
//
// A denylist over "allow": the walls are the namespaces, cgroup and uids; this takes
// away kernel surface that a judged program, compiler or runtime never needs. Denied
// calls fail with an errno, never a kill, so runtimes that probe and fall back keep
// working (libuv without io_uring, glibc's clone3 -> clone). x86_64 only: any other
// syscall ABI (i386 int 0x80, x32) kills the process, since its numbers differ.

/** x86_64 syscall numbers are listed next to names: libseccomp 2.5 does not know the newest names. */
export interface SyscallRef {
  name: string;
  nr: number;
}

/** One comparison on one syscall argument (libseccomp allows one per argument per rule). */
export type ArgCompare =
  | { arg: number; op: "eq" | "ge"; value: bigint }
  /** (arg & mask) == value */
  | { arg: number; op: "masked_eq"; mask: bigint; value: bigint };

export type DenyErrno = "EPERM" | "ENOSYS" | "EAFNOSUPPORT";

export interface SeccompRule {
  syscall: SyscallRef;
  errno: DenyErrno;
  /** All must hold (AND); absent = every call. Several rules for one syscall are OR'ed. */
  when?: ArgCompare[];
  /** The class it belongs to, for docs and for the per-class tests. */
  group: DenyGroup;
}

export type DenyGroup = "namespaces" | "sockets" | "debug" | "subsystems" | "mount" | "admin" | "personality" | "sessions";

export const ERRNO: Record<DenyErrno, number> = { EPERM: 1, ENOSYS: 38, EAFNOSUPPORT: 97 };

const sys = (name: string, nr: number): SyscallRef => ({ name, nr });

/** clone flags that create a namespace (CLONE_NEWNS .. CLONE_NEWNET; CLONE_NEWTIME is 0x80 and shares a bit with CSIGNAL, so it is left to unshare's denial). */
export const NAMESPACE_CLONE_FLAGS: Array<[string, number]> = [
  ["CLONE_NEWNS", 0x00020000],
  ["CLONE_NEWCGROUP", 0x02000000],
  ["CLONE_NEWUTS", 0x04000000],
  ["CLONE_NEWIPC", 0x08000000],
  ["CLONE_NEWUSER", 0x10000000],
  ["CLONE_NEWPID", 0x20000000],
  ["CLONE_NEWNET", 0x40000000],
];

/** Socket families programs may use: local sockets and IP (the network namespace is empty anyway). */
export const ALLOWED_SOCKET_FAMILIES: Array<[string, number]> = [
  ["AF_UNIX", 1],
  ["AF_INET", 2],
  ["AF_INET6", 10],
];

const DENIED: Array<[DenyGroup, SyscallRef[]]> = [
  // Debugging or reading other processes (supervisors share the program's uid in bwrap).
  ["debug", [sys("ptrace", 101), sys("process_vm_readv", 310), sys("process_vm_writev", 311), sys("process_madvise", 440), sys("kcmp", 312), sys("pidfd_getfd", 438)]],
  // Large, bug-prone kernel subsystems no judged program needs.
  [
    "subsystems",
    [
      sys("perf_event_open", 298), sys("bpf", 321), sys("userfaultfd", 323),
      sys("io_uring_setup", 425), sys("io_uring_enter", 426), sys("io_uring_register", 427),
      sys("keyctl", 250), sys("add_key", 248), sys("request_key", 249),
    ],
  ],
  ["namespaces", [sys("unshare", 272), sys("setns", 308)]],
  // A new session is a new autogroup (kernel.sched_autogroup_enabled), and a new autogroup starts
  // at nice 0: a program calling setsid() would leave the lowered priority of its supervisor's
  // session (SANDBOX_NICE, priority.ts) and take a CPU share equal to the API's. setpgid stays.
  ["sessions", [sys("setsid", 112)]],
  [
    "mount",
    [
      sys("mount", 165), sys("umount2", 166), sys("pivot_root", 155), sys("mount_setattr", 442),
      sys("open_tree", 428), sys("open_tree_attr", 467), sys("move_mount", 429),
      sys("fsopen", 430), sys("fsconfig", 431), sys("fsmount", 432), sys("fspick", 433),
    ],
  ],
  // Modules, kexec, hardware ports, swap, reboot, logs, accounting, quotas, clocks, file handles.
  [
    "admin",
    [
      sys("kexec_load", 246), sys("kexec_file_load", 320),
      sys("init_module", 175), sys("finit_module", 313), sys("delete_module", 176),
      sys("iopl", 172), sys("ioperm", 173), sys("swapon", 167), sys("swapoff", 168),
      sys("reboot", 169), sys("syslog", 103), sys("acct", 163),
      sys("quotactl", 179), sys("quotactl_fd", 443), sys("vhangup", 153),
      sys("settimeofday", 164), sys("clock_settime", 227), sys("adjtimex", 159), sys("clock_adjtime", 305),
      sys("name_to_handle_at", 303), sys("open_by_handle_at", 304), sys("lookup_dcookie", 212),
      sys("fanotify_init", 300), sys("uselib", 134), sys("_sysctl", 156), sys("sysfs", 139), sys("ustat", 136), sys("nfsservctl", 180),
    ],
  ],
];

const CLONE = sys("clone", 56);
const CLONE3 = sys("clone3", 435);
const SOCKET = sys("socket", 41);
const SOCKETPAIR = sys("socketpair", 53);
const PERSONALITY = sys("personality", 135);
const BIT31 = 0x80000000n;

function rules(): SeccompRule[] {
  const out: SeccompRule[] = [];
  // clone with any namespace flag: one rule per flag (a rule holds one comparison per argument).
  for (const [, flag] of NAMESPACE_CLONE_FLAGS) {
    out.push({ syscall: CLONE, errno: "EPERM", group: "namespaces", when: [{ arg: 0, op: "masked_eq", mask: BigInt(flag), value: BigInt(flag) }] });
  }
  // clone3's flags sit behind a pointer, out of BPF's reach: ENOSYS makes libcs fall back to clone.
  out.push({ syscall: CLONE3, errno: "ENOSYS", group: "namespaces" });
  // socket/socketpair: every family but the allowed ones (compared on all 64 bits, so high garbage is denied too).
  const allowed = new Set(ALLOWED_SOCKET_FAMILIES.map(([, n]) => n));
  const top = Math.max(...allowed);
  for (const call of [SOCKET, SOCKETPAIR]) {
    for (let family = 0; family < top; family++) {
      if (!allowed.has(family)) out.push({ syscall: call, errno: "EAFNOSUPPORT", group: "sockets", when: [{ arg: 0, op: "eq", value: BigInt(family) }] });
    }
    out.push({ syscall: call, errno: "EAFNOSUPPORT", group: "sockets", when: [{ arg: 0, op: "ge", value: BigInt(top + 1) }] });
  }
  // personality: plain personas and the query (0xffffffff) only; no flag such as
  // ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC or MMAP_PAGE_ZERO. The kernel reads 32 bits.
  // With one comparison per argument per rule, "flag set, and not the query" becomes
  // "flag set and bit 31 clear" plus "bit 31 set and some other bit clear".
  for (let bit = 8n; bit <= 30n; bit++) {
    const flag = 1n << bit;
    out.push({ syscall: PERSONALITY, errno: "EPERM", group: "personality", when: [{ arg: 0, op: "masked_eq", mask: flag | BIT31, value: flag }] });
  }
  for (let bit = 0n; bit <= 30n; bit++) {
    out.push({ syscall: PERSONALITY, errno: "EPERM", group: "personality", when: [{ arg: 0, op: "masked_eq", mask: (1n << bit) | BIT31, value: BIT31 }] });
  }
  for (const [group, calls] of DENIED) for (const syscall of calls) out.push({ syscall, errno: "EPERM", group });
  return out;
}

/** The policy, in the order the generators emit it. */
export const SECCOMP_RULES: readonly SeccompRule[] = Object.freeze(rules());

/** Where a call with conditional denials is allowed (OR of the comparisons' ANDs). */
export interface AllowRule {
  syscall: SyscallRef;
  when: ArgCompare[];
}

/**
 * The exact complement of the conditional denials above, for generators that start
 * from "deny" and list what is allowed (the Docker profile: see docker-profile.ts).
 * test/seccomp.policy.test.ts checks, argument value by argument value, that for each
 * of these calls allow and deny rules are disjoint and together cover every value, so
 * both forms of the policy answer every call the same way.
 */
function allowRules(): AllowRule[] {
  const nsMask = NAMESPACE_CLONE_FLAGS.reduce((mask, [, flag]) => mask | BigInt(flag), 0n);
  const out: AllowRule[] = [{ syscall: CLONE, when: [{ arg: 0, op: "masked_eq", mask: nsMask, value: 0n }] }];
  for (const call of [SOCKET, SOCKETPAIR]) {
    for (const [, family] of ALLOWED_SOCKET_FAMILIES) out.push({ syscall: call, when: [{ arg: 0, op: "eq", value: BigInt(family) }] });
  }
  // A plain persona (no flag in bits 8-31), or the query 0xffffffff (the kernel reads 32 bits).
  out.push({ syscall: PERSONALITY, when: [{ arg: 0, op: "masked_eq", mask: 0xffffff00n, value: 0n }] });
  out.push({ syscall: PERSONALITY, when: [{ arg: 0, op: "masked_eq", mask: 0xffffffffn, value: 0xffffffffn }] });
  return out;
}

export const CONDITIONAL_ALLOW: readonly AllowRule[] = Object.freeze(allowRules());
