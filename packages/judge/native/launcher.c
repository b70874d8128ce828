/*
 * sonocode launcher: the root-side first step of every sandboxed run (bwrap engine).
 *
 * Started by the judge (as root) and replaced by bwrap with execve, so it costs no
 * extra process. In order, it:
 *   1. joins the run's cgroups (writes "0", i.e. itself, to each cgroup.procs given),
 *      so bwrap and everything it forks is accounted and limited from its first
 *      instruction: no block-fd round trip through the judge is needed;
 *   2. enters the session slot's persistent, empty network namespace (setns), so bwrap
 *      does not have to create one per run (the most expensive part of bwrap). The
 *      namespace is owned by the initial user namespace and its loopback is DOWN; the
 *      sandbox (a child user namespace) holds no capability over it, so it can neither
 *      bring an interface up nor see anything outside it. One namespace per slot keeps
 *      concurrent runs apart (abstract unix sockets live in the network namespace);
 *   3. drops to the slot's host uid/gid (no supplementary groups, no capabilities);
 *   4. waits for bwrap's argument list on <ctl-fd> (NUL-terminated strings, then EOF),
 *      and execs bwrap in place with an empty environment. The options (everything
 *      before the first "--") go to bwrap through a sealed memfd and "--args FD", so
 *      the mount layout never shows in a command line; only the command after "--"
 *      (our run helper and the program's argv) stays in bwrap's argv.
 *      The judge starts the launcher of a session's next run while the current one is
 *      still running: joining a cgroup (a migration) waits for an RCU grace period
 *      (cgroup_threadgroup_rwsem), which costs 8-16 ms on cgroup v1, and that wait
 *      now overlaps the previous run instead of delaying this one.
 * Any failure exits 125 before anything is exec'd; EOF without a command line (the
 * session was disposed) exits 125 too. It is compiled once, statically, on the host;
 * it never sees user data and is never mounted into the sandbox.
 *
 * usage: launch <bwrap> <netns-path|-> <uid> <gid> <ctl-fd> [<cgroup.procs>...]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

static unsigned long num(const char *s) {
  char *end = NULL;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno || !end || *end || v == 0) _exit(125);
  return v;
}

#define CMD_BYTES (1 << 20)
#define CMD_ARGS 4096

int main(int argc, char **argv) {
  if (argc < 6 || argv[1][0] != '/') _exit(125);
  const char *bwrap = argv[1];
  const char *netns = argv[2];
  uid_t uid = (uid_t)num(argv[3]);
  gid_t gid = (gid_t)num(argv[4]);
  int ctl = (int)num(argv[5]);
  for (int i = 6; i < argc; i++) {
    int fd = open(argv[i], O_WRONLY | O_CLOEXEC);
    if (fd < 0) _exit(125);
    if (write(fd, "0", 1) != 1) _exit(125);
    close(fd);
  }

  if (strcmp(netns, "-") != 0) {
    int fd = open(netns, O_RDONLY | O_CLOEXEC);
    if (fd < 0) _exit(125);
    if (setns(fd, CLONE_NEWNET) != 0) _exit(125);
    close(fd);
  }
  if (setgroups(0, NULL) != 0) _exit(125);
  if (setresgid(gid, gid, gid) != 0) _exit(125);
  if (setresuid(uid, uid, uid) != 0) _exit(125);
  /* Paranoia: the drop must be irreversible. */
  if (setuid(0) == 0 || getuid() != uid || geteuid() != uid || getegid() != gid) _exit(125);

  static char buf[CMD_BYTES];
  static char *cmd[CMD_ARGS + 4];
  size_t len = 0;
  for (;;) {
    ssize_t got = read(ctl, buf + len, sizeof buf - len);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) _exit(125);
    if (got == 0) break;
    len += (size_t)got;
    if (len == sizeof buf) _exit(125);
  }
  close(ctl);
  if (len == 0 || buf[len - 1] != '\0') _exit(125);

  /* Options up to the first "--" into a memfd for --args; the rest is the command. */
  size_t split = 0;
  while (split < len && strcmp(buf + split, "--") != 0) split += strlen(buf + split) + 1;
  if (split == len) _exit(125);
  int opts = memfd_create("bwrap-args", MFD_ALLOW_SEALING);
  if (opts < 0) _exit(125);
  for (size_t done = 0; done < split;) {
    ssize_t put = write(opts, buf + done, split - done);
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) _exit(125);
    done += (size_t)put;
  }
  if (lseek(opts, 0, SEEK_SET) != 0) _exit(125);
  if (fcntl(opts, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0) _exit(125);
  static char optsfd[16];
  snprintf(optsfd, sizeof optsfd, "%d", opts);

  size_t n = 0;
  cmd[n++] = (char *)"bwrap";
  cmd[n++] = (char *)"--args";
  cmd[n++] = optsfd;
  for (size_t at = split; at < len; at += strlen(buf + at) + 1) {
    if (n == CMD_ARGS + 3) _exit(125);
    cmd[n++] = buf + at;
  }
  cmd[n] = NULL;
  char *envp[] = {NULL};
  execve(bwrap, cmd, envp);
  _exit(125);
}
