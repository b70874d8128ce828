/*
 * sonocode seccomp filter (bwrap engine): writes the classic-BPF program below (an
 * array of struct sock_filter) to <out-file>, for bwrap's --seccomp FD.
 *
 * It is compiled and run once with the runtime's own gcc, next to the run helper,
 * and the result is cached with it. bwrap installs it as the very last step before
 * exec, in the sandbox's pid 1 (its reaper) and in the child that execs our run
 * helper: so every process inside the sandbox is filtered, the supervisors too,
 * and none of them is an unfiltered process the program could take over (they run
 * as the program's uid; /proc/<pid>/mem of a same-uid process is writable).
 *
 * Hand-written (no libseccomp in the rootfs). A denylist, not an allowlist: the
 * sandbox's real walls are the namespaces, cgroup and uid; this only takes away kernel
 * surface a judged program, compiler or runtime never needs. Denied calls fail with
 * EPERM (never a kill) so runtimes that probe a syscall and fall back keep working
 * (e.g. libuv without io_uring); clone3 fails with ENOSYS so libc falls back to clone,
 * whose flags BPF can inspect (clone3's sit behind a pointer). Foreign syscall ABIs
 * (i386 int 0x80, x32) are killed: their numbers differ, so the list would not hold.
 * The allow path reads only arch and nr, so the kernel (5.11+) folds it into its
 * per-syscall "always allow" bitmap: allowed syscalls cost nothing extra.
 *
 * usage: seccomp-filter <out-file>
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __x86_64__
#error "the seccomp filter is written for x86_64"
#endif
#define X32_SYSCALL_BIT 0x40000000u
#define NS_CLONE_FLAGS (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)
/* Newer than the rootfs's kernel headers. */
#ifndef __NR_open_tree_attr
#define __NR_open_tree_attr 467
#endif

#define LOAD(field) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))
#define RET(action) BPF_STMT(BPF_RET | BPF_K, (action))
#define DENY(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), RET(SECCOMP_RET_ERRNO | EPERM)

static const struct sock_filter FILTER[] = {
  /* Only native x86_64 calls: the i386 (int 0x80) and x32 entry points have their own
   * syscall numbers, so a denylist written for x86_64 would not hold there. */
  LOAD(arch),
  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
  RET(SECCOMP_RET_KILL_PROCESS),
  LOAD(nr),
  BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 1),
  RET(SECCOMP_RET_KILL_PROCESS),

  /* clone: no new namespaces (the flags are an int in the kernel: the low word is all of them). */
  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 0, 4),
  LOAD(args[0]),
  BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, NS_CLONE_FLAGS, 0, 1),
  RET(SECCOMP_RET_ERRNO | EPERM),
  RET(SECCOMP_RET_ALLOW),
  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1),
  RET(SECCOMP_RET_ERRNO | ENOSYS),

  /* personality: only the query (0xffffffff) and PER_LINUX (0); no ADDR_NO_RANDOMIZE & co. */
  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_personality, 0, 5),
  LOAD(args[0]),
  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffffu, 2, 0),
  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0),
  RET(SECCOMP_RET_ERRNO | EPERM),
  RET(SECCOMP_RET_ALLOW),

  /* Debugging other processes and reading their memory. */
  DENY(__NR_ptrace), DENY(__NR_process_vm_readv), DENY(__NR_process_vm_writev),
  DENY(__NR_kcmp), DENY(__NR_pidfd_getfd),
  /* Large, bug-prone kernel subsystems. */
  DENY(__NR_perf_event_open), DENY(__NR_bpf), DENY(__NR_userfaultfd),
  DENY(__NR_io_uring_setup), DENY(__NR_io_uring_enter), DENY(__NR_io_uring_register),
  DENY(__NR_keyctl), DENY(__NR_add_key), DENY(__NR_request_key),
  /* Namespaces and mounts. */
  DENY(__NR_unshare), DENY(__NR_setns),
  DENY(__NR_mount), DENY(__NR_umount2), DENY(__NR_pivot_root), DENY(__NR_mount_setattr),
  DENY(__NR_open_tree), DENY(__NR_open_tree_attr), DENY(__NR_move_mount),
  DENY(__NR_fsopen), DENY(__NR_fsconfig), DENY(__NR_fsmount), DENY(__NR_fspick),
  /* Administration: modules, kexec, hardware ports, swap, reboot, logs, accounting, quotas, clocks. */
  DENY(__NR_kexec_load), DENY(__NR_kexec_file_load),
  DENY(__NR_init_module), DENY(__NR_finit_module), DENY(__NR_delete_module),
  DENY(__NR_iopl), DENY(__NR_ioperm), DENY(__NR_swapon), DENY(__NR_swapoff),
  DENY(__NR_reboot), DENY(__NR_syslog), DENY(__NR_acct),
  DENY(__NR_quotactl), DENY(__NR_quotactl_fd), DENY(__NR_vhangup),
  DENY(__NR_settimeofday), DENY(__NR_clock_settime), DENY(__NR_adjtimex), DENY(__NR_clock_adjtime),
  /* File handles (bypass path lookup), fanotify, and obsolete interfaces. */
  DENY(__NR_name_to_handle_at), DENY(__NR_open_by_handle_at), DENY(__NR_lookup_dcookie),
  DENY(__NR_fanotify_init), DENY(__NR_uselib), DENY(__NR__sysctl),

  RET(SECCOMP_RET_ALLOW),
};

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  int fd = open(argv[1], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return 1;
  if (write(fd, FILTER, sizeof FILTER) != (ssize_t)sizeof FILTER) return 1;
  return close(fd) == 0 ? 0 : 1;
}
