// Probes for the one seccomp policy (src/sandbox/seccomp/policy.ts), run from inside
// both engines by seccomp.test.ts: at least one call per denied class, each with the
// errno the policy gives it, plus what must keep working (threads through the clone3
// -> clone fallback, fork, the allowed socket families, the personality query).
import { ALLOWED_SOCKET_FAMILIES, NAMESPACE_CLONE_FLAGS, SECCOMP_RULES, type DenyGroup } from "../src/sandbox/seccomp/policy.js";

export interface Probe {
  name: string;
  group: DenyGroup | "allowed";
  /** A C expression returning a long; -1 with errno on failure. */
  call: string;
  /** errno name, or "ALLOWED" (the call did not fail with a policy errno). */
  expected: string;
}

const deny = (group: DenyGroup, name: string, call: string, expected = "EPERM"): Probe => ({ name, group, call, expected });

export const PROBES: Probe[] = [
  deny("debug", "ptrace", "ptrace(PTRACE_TRACEME, 0, 0, 0)"),
  deny("debug", "process_vm_readv", "syscall(SYS_process_vm_readv, getppid(), 0, 0, 0, 0, 0)"),
  deny("debug", "pidfd_getfd", "syscall(438, 0, 0, 0)"),
  ...NAMESPACE_CLONE_FLAGS.map(([flag]) => deny("namespaces", `clone_${flag}`, `syscall(SYS_clone, ${flag} | SIGCHLD, 0, 0, 0, 0)`)),
  deny("namespaces", "clone3", "syscall(SYS_clone3, 0, 0)", "ENOSYS"),
  deny("namespaces", "unshare_user", "unshare(CLONE_NEWUSER)"),
  deny("namespaces", "unshare_net", "unshare(CLONE_NEWNET)"),
  deny("namespaces", "setns", "syscall(SYS_setns, 0, 0)"),
  // The probe does not lead a process group (a leader's setsid() fails with EPERM anyway): only the policy's EPERM passes.
  deny("sessions", "setsid", "syscall(SYS_setsid)"),
  deny("mount", "mount", 'mount("none", "/tmp", "tmpfs", 0, 0)'),
  deny("mount", "umount2", 'umount2("/tmp", 0)'),
  deny("mount", "pivot_root", 'syscall(SYS_pivot_root, "/tmp", "/tmp")'),
  deny("mount", "fsopen", 'syscall(430, "tmpfs", 0)'),
  deny("mount", "open_tree", 'syscall(428, -100, "/tmp", 1)'),
  deny("mount", "move_mount", 'syscall(429, -100, "/tmp", -100, "/box", 0)'),
  deny("mount", "mount_setattr", 'syscall(442, -100, "/tmp", 0, 0, 0)'),
  deny("subsystems", "io_uring_setup", "syscall(425, 1, 0)"),
  deny("subsystems", "bpf", "syscall(SYS_bpf, 0, 0, 0)"),
  deny("subsystems", "perf_event_open", "syscall(SYS_perf_event_open, 0, 0, -1, -1, 0)"),
  deny("subsystems", "userfaultfd", "syscall(SYS_userfaultfd, 0)"),
  deny("subsystems", "keyctl", "syscall(SYS_keyctl, 0, -3, 0)"),
  deny("subsystems", "add_key", 'syscall(SYS_add_key, "user", "k", "v", 1, -3)'),
  deny("subsystems", "request_key", 'syscall(SYS_request_key, "user", "k", 0, 0)'),
  deny("admin", "init_module", "syscall(SYS_init_module, 0, 0, \"\")"),
  deny("admin", "finit_module", "syscall(SYS_finit_module, 0, \"\", 0)"),
  deny("admin", "kexec_load", "syscall(SYS_kexec_load, 0, 0, 0, 0)"),
  deny("admin", "reboot", "syscall(SYS_reboot, 0, 0, 0, 0)"),
  deny("admin", "iopl", "syscall(SYS_iopl, 3)"),
  deny("admin", "syslog", "syscall(SYS_syslog, 3, 0, 0)"),
  deny("admin", "clock_settime", "syscall(SYS_clock_settime, 0, 0)"),
  deny("admin", "open_by_handle_at", "syscall(SYS_open_by_handle_at, 0, 0, 0)"),
  deny("personality", "personality_norandom", "personality(ADDR_NO_RANDOMIZE)"),
  deny("personality", "personality_bit31_norandom", "personality(0x80040000u)"),
  deny("sockets", "socket_vsock", "socket(40, SOCK_STREAM, 0)", "EAFNOSUPPORT"),
  deny("sockets", "socket_alg", "socket(38, SOCK_SEQPACKET, 0)", "EAFNOSUPPORT"),
  deny("sockets", "socket_netlink", "socket(AF_NETLINK, SOCK_RAW, 0)", "EAFNOSUPPORT"),
  deny("sockets", "socket_packet", "socket(AF_PACKET, SOCK_RAW, 0)", "EAFNOSUPPORT"),
  deny("sockets", "socket_high_bits", "syscall(SYS_socket, 0x100000002L, SOCK_STREAM, 0)", "EAFNOSUPPORT"),
  deny("sockets", "socketpair_netlink", "({ int sv[2]; socketpair(AF_NETLINK, SOCK_RAW, 0, sv); })", "EAFNOSUPPORT"),
  ...ALLOWED_SOCKET_FAMILIES.map(([family]): Probe => ({ name: `socket_${family}`, group: "allowed", call: `socket(${family}, SOCK_STREAM, 0)`, expected: "ALLOWED" })),
  { name: "personality_query", group: "allowed", call: "personality(0xffffffff)", expected: "ALLOWED" },
];

/** Every class of the policy has a probe (a new class must come with one). */
export function unprobedGroups(): DenyGroup[] {
  const probed = new Set(PROBES.map((p) => p.group));
  return [...new Set(SECCOMP_RULES.map((r) => r.group))].filter((g) => !probed.has(g));
}

export const PROBE_SOURCE = [
  "#define _GNU_SOURCE",
  "#include <errno.h>",
  "#include <pthread.h>",
  "#include <sched.h>",
  "#include <signal.h>",
  "#include <stdio.h>",
  "#include <string.h>",
  "#include <sys/mount.h>",
  "#include <sys/personality.h>",
  "#include <sys/ptrace.h>",
  "#include <sys/socket.h>",
  "#include <sys/syscall.h>",
  "#include <sys/wait.h>",
  "#include <unistd.h>",
  "static void *thread(void *arg) { return arg; }",
  // Only the policy's errnos count as denied: anything else (EBADF, EFAULT, EINVAL...) means the kernel saw the call.
  'static void probe(const char *name, long r) { int e = errno; printf("%s %s\\n", name, r == -1 && (e == EPERM || e == ENOSYS || e == EAFNOSUPPORT) ? strerrorname_np(e) : "ALLOWED"); }',
  "int main(void) {",
  ...PROBES.map((p) => `  errno = 0; probe("${p.name}", (long)(${p.call}));`),
  "  pthread_t t; int ok = pthread_create(&t, 0, thread, 0) == 0 && pthread_join(t, 0) == 0;",
  "  pid_t p = fork(); if (p == 0) _exit(7); int st = 0; waitpid(p, &st, 0);",
  '  printf("threads %d fork %d\\n", ok, WIFEXITED(st) ? WEXITSTATUS(st) : -1);',
  "  return 0;",
  "}",
].join("\n");

export const PROBE_OUTPUT = PROBES.map((p) => `${p.name} ${p.expected}\n`).join("") + "threads 1 fork 7\n";
