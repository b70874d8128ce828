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
 * Any failure exits 125 before anything is exec'd. It is compiled once, statically,
 * with the runtime's own gcc; it never sees user data.
 *
 * usage: launch <netns-path|-> <uid> <gid> [<cgroup.procs>...] -- <bwrap> args...
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

int main(int argc, char **argv) {
  if (argc < 6) _exit(125);
  const char *netns = argv[1];
  uid_t uid = (uid_t)num(argv[2]);
  gid_t gid = (gid_t)num(argv[3]);
  int i = 4;
  for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
    int fd = open(argv[i], O_WRONLY | O_CLOEXEC);
    if (fd < 0) _exit(125);
    if (write(fd, "0", 1) != 1) _exit(125);
    close(fd);
  }
  if (i + 1 >= argc) _exit(125);
  char **cmd = argv + i + 1;

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
  char *envp[] = {NULL};
  execve(cmd[0], cmd, envp);
  _exit(125);
}
