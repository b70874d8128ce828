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
 *   3. drops to the slot's host uid/gid (no supplementary groups, no capabilities) and
 *      execs bwrap with an empty environment.
 *   4. waits for the bwrap command line on <ctl-fd> (NUL-terminated strings, then EOF).
 *      The judge starts the launcher of a session's next run while the current one is
 *      still running: joining a cgroup (a migration) waits for an RCU grace period
 *      (cgroup_threadgroup_rwsem), which costs 8-16 ms on cgroup v1, and that wait
 *      now overlaps the previous run instead of delaying this one.
 * Any failure exits 125 before anything is exec'd; EOF without a command line (the
 * session was disposed) exits 125 too. It is compiled once, statically, with the
 * runtime's own gcc; it never sees user data.
 *
 * usage: launch <netns-path|-> <uid> <gid> <ctl-fd> [<cgroup.procs>...]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
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
  if (argc < 5) _exit(125);
  const char *netns = argv[1];
  uid_t uid = (uid_t)num(argv[2]);
  gid_t gid = (gid_t)num(argv[3]);
  int ctl = (int)num(argv[4]);
  for (int i = 5; i < argc; i++) {
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
  static char *cmd[CMD_ARGS + 1];
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
  size_t n = 0;
  for (size_t at = 0; at < len; at += strlen(buf + at) + 1) {
    if (n == CMD_ARGS) _exit(125);
    cmd[n++] = buf + at;
  }
  cmd[n] = NULL;
  if (cmd[0][0] != '/') _exit(125);
  char *envp[] = {NULL};
  execve(cmd[0], cmd, envp);
  _exit(125);
}
