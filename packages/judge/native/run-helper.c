/*
 * sonocode run helper: pid 1 of every bwrap sandbox (bwrap --as-pid-1).
 *
 * It forks the user program, reaps every process of the pid namespace, and reports
 * the program's exact outcome (exit code or signal, and its peak RSS from wait4) on
 * a status fd; it applies the per-run rlimits right before exec so bwrap itself runs
 * unconstrained. (bwrap's own reaper would fold "killed by signal N" into exit code
 * 128+N, so exit(139) would look like a SIGSEGV.)
 *
 * It is the supervisor the host believes, so the program must not be able to reach
 * it, although both run as the same uid in the same namespaces:
 *   - it makes itself non-dumpable first thing: its /proc/1/{mem,fd,environ,...} then
 *     belong to the initial namespace's root and ptrace access is refused, so the
 *     program can neither rewrite it nor write to its status fd (execve makes the
 *     program dumpable again, as any normal process);
 *   - as the pid namespace's init it gets no signal from inside the namespace that it
 *     has no handler for (it installs none), SIGKILL and SIGSTOP included;
 *   - the status fd is closed in the child before exec.
 * When the program exits, this process reports and exits, and the kernel kills
 * whatever is left in the namespace. Built once on the host (static) and mounted
 * read-only, alone; it never reads user data.
 *
 * With --init it is instead the Docker engine's container init: it reaps every
 * orphan forever (the container's only baseline process, under a uid of its own).
 *
 * usage: run --init
 *        run <status-fd> <fsize-bytes> <nofile> <stack-bytes> <cpu-seconds> -- argv...
 * status line: "exit N MAXRSS_KB" | "signal N MAXRSS_KB" | "execfail ERRNO"
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static unsigned long long num(const char *s) {
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || !end || *end) _exit(120);
  return v;
}

static void limit(int resource, rlim_t soft, rlim_t hard) {
  struct rlimit rl = {soft, hard};
  if (setrlimit(resource, &rl) != 0) _exit(121);
}

static void report(int fd, const char *kind, int value, long maxrss_kb) {
  char line[96];
  int n = snprintf(line, sizeof line, "%s %d %ld\n", kind, value, maxrss_kb);
  if (fd >= 0 && n > 0) (void)!write(fd, line, (size_t)n);
}

/* Container init: wait for SIGCHLD (blocked, so no handler is needed) and reap. */
static int init_loop(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) return 118;
  for (;;) {
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
    siginfo_t info;
    (void)sigwaitinfo(&set, &info);
  }
}

int main(int argc, char **argv) {
  /* Before anything else: nothing in the sandbox may read or write this process. */
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) _exit(119);
  if (argc == 2 && strcmp(argv[1], "--init") == 0) return init_loop();
  if (argc < 8 || strcmp(argv[6], "--") != 0) _exit(122);
  int status_fd = (int)num(argv[1]);
  rlim_t fsize = (rlim_t)num(argv[2]);
  rlim_t nofile = (rlim_t)num(argv[3]);
  rlim_t stack = (rlim_t)num(argv[4]);
  rlim_t cpu = (rlim_t)num(argv[5]);
  char **cmd = argv + 7;

  /* The exec-error pipe is close-on-exec: EOF means exec succeeded. */
  int errpipe[2];
  if (pipe2(errpipe, O_CLOEXEC) != 0) _exit(123);
  if (fcntl(status_fd, F_SETFD, FD_CLOEXEC) != 0) _exit(124);

  pid_t child = fork();
  if (child < 0) _exit(125);
  if (child == 0) {
    /* Nothing the engine passed in (info/block/status fds) may reach user code.
     * close_range is two syscalls instead of ~1000 close() calls (about a millisecond
     * per run on a VM); the loop (over the whole rlimit, not just 1024) is the fallback
     * for kernels before 5.9. errpipe[1] is close-on-exec and stays open until exec. */
    int keep = errpipe[1];
    if ((keep > 3 && syscall(SYS_close_range, 3u, (unsigned)keep - 1, 0u) != 0) ||
        syscall(SYS_close_range, (unsigned)keep + 1, ~0u, 0u) != 0) {
      struct rlimit cur;
      long max = getrlimit(RLIMIT_NOFILE, &cur) == 0 && cur.rlim_cur != RLIM_INFINITY && cur.rlim_cur < (1u << 20) ? (long)cur.rlim_cur : 1024;
      for (long fd = 3; fd < max; fd++)
        if (fd != keep) close((int)fd);
    }
    limit(RLIMIT_CORE, 0, 0);
    limit(RLIMIT_FSIZE, fsize, fsize);
    limit(RLIMIT_NOFILE, nofile, nofile);
    limit(RLIMIT_STACK, stack, stack);
    /* CPU rlimit is only a backstop: the host polls the cgroup and kills earlier. */
    limit(RLIMIT_CPU, cpu, cpu + 1);
    signal(SIGPIPE, SIG_DFL);
    execv(cmd[0], cmd);
    int err = errno;
    (void)!write(errpipe[1], &err, sizeof err);
    _exit(127);
  }
  close(errpipe[1]);
  int err = 0;
  ssize_t got;
  do got = read(errpipe[0], &err, sizeof err); while (got < 0 && errno == EINTR);
  if (got == (ssize_t)sizeof err) {
    report(status_fd, "execfail", err, 0);
    waitpid(child, NULL, 0);
    _exit(127);
  }

  /* Reap everything (orphans of the program are re-parented to us, pid 1) until the
   * program itself exits; its rusage is the one reported. */
  int st = 0;
  struct rusage ru;
  for (;;) {
    int any = 0;
    memset(&ru, 0, sizeof ru);
    pid_t r = wait4(-1, &any, 0, &ru);
    if (r == child) {
      st = any;
      break;
    }
    if (r < 0 && errno != EINTR) _exit(126);
  }
  if (WIFSIGNALED(st)) {
    report(status_fd, "signal", WTERMSIG(st), ru.ru_maxrss);
    _exit(128 + WTERMSIG(st));
  }
  report(status_fd, "exit", WEXITSTATUS(st), ru.ru_maxrss);
  _exit(WEXITSTATUS(st));
}
