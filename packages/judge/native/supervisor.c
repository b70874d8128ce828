/*
 * sonocode supervisor: the bwrap engine's persistent sandbox executor, one process per
 * session, started by the judge (root) and alive until the session is disposed.
 *
 * Why it exists: starting a sandbox per run (a Node spawn, bwrap's namespace and mount
 * setup, a cgroup join) cost 6-9 ms per empty run. This process builds the session's
 * view once (slot network namespace, a private mount namespace pivoted into the
 * read-only rootfs with /dev and the session's own /box tmpfs) and then, per run, only
 * forks. The judge spawns nothing per session but this process (no mount, no umount):
 * /box is mounted here, in our mount namespace only, and goes away with it:
 *
 *   supervisor (host root, non-dumpable, pivoted into the sandbox view)
 *     |- run init  (pid 1 of a fresh pid/mount/ipc/uts/cgroup namespace, root,
 *     |  |          non-dumpable, in the run's cgroup from its first instruction)
 *     |  `- program (rlimits, slot uid, no_new_privs; then execve)
 *     `- helper init (paired runs only, see pair_command(): the same, in a cgroup of its own)
 *        `- helper (an interactor: the slot's helper uid, never the program's; its
 *                   stdin/stdout crossed with the program's (the program's stdout relayed
 *                   by us, counted), work dir its own /tmp)
 *
 * The run init is forked one run ahead ("prep"), into the next run's cgroup: on cgroup
 * v2 with clone3(CLONE_INTO_CGROUP), so it never runs outside it; on v1 it writes
 * itself into the group's cgroup.procs before anything else, which overlaps the current
 * run (and costs ~0.05 ms while the engine holds its favordynmods hierarchy, host-mounts.ts;
 * else an RCU grace period, 8-16 ms). It then mounts that run's fresh /proc
 * and /dev/shm and waits. The host sets the group's memory and pids limits before it
 * sends the run, so the program starts limited. Per run the init only remounts /box
 * read-only when asked, mounts a fresh /tmp, installs the seccomp filter on itself
 * (so every process inside is filtered, the init too), forks the program and reaps.
 *
 * Nothing inside can reach a supervisor: both run as host root (the program never
 * does: it is the slot's unprivileged uid), neither is dumpable, so the program can
 * neither signal, ptrace, prlimit nor open /proc/<pid>/{mem,fd,environ} of them; the
 * init is also its pid namespace's init (no signal from inside without a handler,
 * and it installs none). The program gets no descriptor of ours: stdin is a sealed
 * memfd, stdout/stderr are pipes of this run only, which we relay to the session's
 * output channels (a program holding those could shut them down, or make them
 * non-blocking, for every later run); everything else is closed. When the program
 * exits the init reports and exits, and the kernel kills whatever is left in the pid
 * namespace and waits for it before our waitpid() returns: so once both pipes reach
 * EOF, every byte of the run has been relayed, and we write the end marker.
 *
 * Protocol (the judge is src/engines/bwrap/supervisor.ts):
 *   fd 0  judge -> us: messages "<u32 length><fields, NUL-terminated>..."
 *   fd 1  the runs' stdout, fd 2 their stderr (relayed): after each run we write the
 *         run's 24-byte random marker (from the judge, never seen by the program) on
 *         both, so the judge knows where the run's output ends;
 *   fd 3  us -> judge: status lines.
 *   config <parent-pid> <uid> <gid> <box-bytes> <seccomp-file> <netns|-> <rootfs> <dev>
 *          -> "ready" | "fatal <stage> <errno>"
 *   put <seq> <name> <bytes>                          a file into /box -> "<seq> put <errno>"
 *   prep <cgroup-version 1|2> <cgroup dir>...        (no answer; failures show at run)
 *   prepaux <cgroup-version> <uid> <cgroup dir>...   a paired run's helper init (its own uid and cgroup)
 *   run <seq> <marker-hex> <writable 0|1> <fsize> <nofile> <stack> <cpu-s> <tmp-bytes>
 *       <argc> <argv>... <envc> <env>... <stdin: "-" then raw bytes | "@" <path>>
 *       -> markers, then "<seq> exit|signal <n> <maxrss-kb> <wall-us>"
 *                       | "<seq> killed 0 0 0" (the init died: the host killed the group)
 *                       | "<seq> execfail <errno> 0 0" | "<seq> error <stage> <errno>"
 *                       (stage child-<step>: the program's own setup failed before exec)
 *   pair <seq> <marker-hex> <program's output limit> <program spec> <helper spec> <helper's fd 3: "-" bytes | "@" path>
 *       a paired run (see pair_command() in runs.c: the program's stdout reaches the helper through
 *       us, counted): markers, then "<seq>a <helper's answer>", then "<seq> <program's answer> <bytes crossed>"
 * An unprivileged judge sends "uconfig" instead of "config" (userns-view.c: the same view
 * from a user namespace, "userns" -> the judge maps it -> "mapped" -> "ready").
 * EOF on fd 0, or the judge's death (PR_SET_PDEATHSIG), kills everything and exits.
 * This file has the protocol's main loop; the runs (run, pair, the output relay) are
 * runs.c, the run init run-init.c, its preparation (prep, the run's stdin) init-prep.c,
 * the session's view session-view.c (config), userns-view.c (uconfig) and session-box.c
 * (/box, put); shared declarations in supervisor.h. Built statically on the host by
 * src/sandbox/native-helpers.ts; never mounted inside.
 */
#include "supervisor.h"

#define MAX_MSG (256u << 20)

struct sock_fprog seccomp_filter;
uid_t prog_uid;
gid_t prog_gid;
int host_root = -1;

/* ---- small helpers --------------------------------------------------------- */

void status_line(const char *fmt, ...) {
  char line[160];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line - 1, fmt, ap);
  va_end(ap);
  if (n <= 0) return;
  if ((size_t)n > sizeof line - 2) n = (int)sizeof line - 2;
  line[n++] = '\n';
  for (int at = 0; at < n;) {
    ssize_t put = write(STATUS_FD, line + at, (size_t)(n - at));
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) _exit(0); /* the judge is gone */
    at += (int)put;
  }
}

_Noreturn void fatal(const char *stage) {
  status_line("fatal %s %d", stage, errno);
  _exit(1);
}

int write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t put = write(fd, p, len);
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) return -1;
    p += put;
    len -= (size_t)put;
  }
  return 0;
}

static int read_all(int fd, void *buf, size_t len) {
  char *p = buf;
  while (len > 0) {
    ssize_t got = read(fd, p, len);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return -1;
    p += got;
    len -= (size_t)got;
  }
  return 0;
}


/* Reads one message into a growing buffer; returns its length, or -1 at EOF. */
static ssize_t read_message(char **buf, size_t *cap) {
  uint32_t len;
  if (read_all(CTL_FD, &len, sizeof len) != 0) return -1;
  if (len > MAX_MSG) fatal("message");
  if (len + 1 > *cap) {
    free(*buf);
    *cap = len + 1;
    if (!(*buf = malloc(*cap))) fatal("malloc");
  }
  if (read_all(CTL_FD, *buf, len) != 0) return -1;
  (*buf)[len] = '\0';
  return (ssize_t)len;
}

int main(void) {
  /* Before anything else: nothing may read or write this process, and it dies with the judge. */
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) _exit(1);
  signal(SIGPIPE, SIG_IGN);
  /* The judge's files in /box and everything the programs create get the usual modes, whatever
   * umask the evaluator was started with (systemd UMask=0027 would make the source unreadable
   * to the program's uid: every submission CE). */
  umask(022);
  char *buf = NULL;
  size_t cap = 0;
  ssize_t len = read_message(&buf, &cap);
  if (len < 0) _exit(0);
  struct fields f = {buf, (size_t)len, 0};
  const char *cmd = next_field(&f);
  /* config: host root builds the view (session-view.c); uconfig: an unprivileged judge, through a user namespace (userns-view.c). */
  if (cmd && strcmp(cmd, "uconfig") == 0) {
    configure_userns(&f);
  } else {
    if (geteuid() != 0) {
      errno = EPERM;
      fatal("root");
    }
    if (!cmd || strcmp(cmd, "config") != 0) fatal("protocol");
    configure(&f);
  }
  for (;;) {
    struct pollfd p[1 + RUN_POLL_FDS];
    p[0] = (struct pollfd){CTL_FD, POLLIN, 0};
    runs_poll_fds(p + 1);
    if (poll(p, 1 + RUN_POLL_FDS, -1) < 0) {
      if (errno == EINTR) continue;
      fatal("poll");
    }
    runs_events(p + 1);
    if (!p[0].revents) continue;
    len = read_message(&buf, &cap);
    if (len < 0) break;
    f = (struct fields){buf, (size_t)len, 0};
    cmd = next_field(&f);
    if (cmd && strcmp(cmd, "prep") == 0) prep_command(&f, 0);
    else if (cmd && strcmp(cmd, "prepaux") == 0) prep_command(&f, 1);
    else if (cmd && strcmp(cmd, "run") == 0) run_command(&f);
    else if (cmd && strcmp(cmd, "pair") == 0) pair_command(&f);
    else if (cmd && strcmp(cmd, "put") == 0) put_file(&f);
    else fatal("protocol");
    /* A big stdin is not kept: every later fork would copy its page tables. */
    if (cap > (1u << 20)) {
      free(buf);
      buf = NULL;
      cap = 0;
    }
  }
  runs_end();
  return 0;
}
