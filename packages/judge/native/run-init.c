/*
 * sonocode run init: pid 1 of one bwrap-engine run, forked by the session's supervisor
 * (supervisor.c, which explains the design) one run ahead into the run's cgroup. It
 * finishes the run's view (its /proc, /dev/shm, then per run /box read-only when asked
 * and a fresh /tmp), installs the seccomp filter on itself, forks the program, reaps
 * everything, reports the program's end on its socket and exits; the kernel then kills
 * and waits for whatever is left in the pid namespace.
 */
#include "supervisor.h"
/* ---- the run spec, as the init parses it ----------------------------------- */



/* Parses "<writable> <fsize> <nofile> <stack> <cpu> <tmp> <argc> argv... <envc> env..." */
int parse_spec(struct fields *f, struct spec *s) {
  unsigned long long argc, envc;
  if (next_u64(f, &s->writable) || next_u64(f, &s->fsize) || next_u64(f, &s->nofile) || next_u64(f, &s->stack) ||
      next_u64(f, &s->cpu) || next_u64(f, &s->tmp_bytes) || next_u64(f, &argc) || argc == 0 || argc > MAX_FIELDS)
    return -1;
  for (unsigned long long i = 0; i < argc; i++)
    if (!(s->argv[i] = (char *)next_field(f))) return -1;
  s->argv[argc] = NULL;
  if (s->argv[0][0] != '/' || next_u64(f, &envc) || envc > MAX_FIELDS) return -1;
  for (unsigned long long i = 0; i < envc; i++)
    if (!(s->envp[i] = (char *)next_field(f))) return -1;
  s->envp[envc] = NULL;
  return 0;
}

/* The child's end of the close-on-exec error pipe: a setup failure is reported there, never as an exit code. */
static int child_errw = -1;

/* The program's setup failed before exec: the init reports the stage (a sandbox error), never an exit code the verdict would read. */
static _Noreturn void child_failed(enum child_stage stage, int err) {
  int report[2] = {(int)stage, err};
  if (child_errw >= 0) (void)!write(child_errw, report, sizeof report);
  _exit(127);
}

static void limit(int resource, rlim_t soft, rlim_t hard) {
  struct rlimit rl = {soft, hard};
  if (setrlimit(resource, &rl) != 0) child_failed(STAGE_RLIMIT, errno);
}

static long long now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- the run init (pid 1 of one run) ---------------------------------------- */

/* The program: everything irreversible happens here, last thing before exec. fds[i] becomes fd i. */
static _Noreturn void exec_program(const struct spec *s, const int *fds, int nfds, int errw, int helper) {
  /* The error pipe first, far above the fds the program gets. */
  child_errw = errw;
  int moved = fcntl(errw, F_DUPFD_CLOEXEC, 16);
  if (moved < 0) child_failed(STAGE_FDS, errno);
  child_errw = moved;
  /* Through copies above them, whatever numbers the received fds got; dup2 clears close-on-exec. */
  int high[MAX_RUN_FDS];
  for (int i = 0; i < nfds; i++)
    if ((high[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 16)) < 0) child_failed(STAGE_FDS, errno);
  for (int i = 0; i < nfds; i++)
    if (dup2(high[i], i) != i) child_failed(STAGE_FDS, errno);
  /* Only 0..nfds-1 and the close-on-exec error pipe stay: no fd of the judge or ours reaches user code. */
  if ((child_errw > nfds && syscall(SYS_close_range, (unsigned)nfds, (unsigned)child_errw - 1, 0u) != 0) ||
      syscall(SYS_close_range, (unsigned)child_errw + 1, ~0u, 0u) != 0)
    child_failed(STAGE_CLOSE, errno);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_DFL);
  limit(RLIMIT_CORE, 0, 0);
  limit(RLIMIT_FSIZE, s->fsize, s->fsize);
  limit(RLIMIT_NOFILE, s->nofile, s->nofile);
  limit(RLIMIT_STACK, s->stack, s->stack);
  /* CPU rlimit is only a backstop: the host polls the cgroup and kills earlier. */
  limit(RLIMIT_CPU, s->cpu, s->cpu + 1);
  /* A helper runs as another uid than the program, whose /box (mode 0700) it cannot enter: its work dir is its own /tmp. */
  if (chdir(helper ? "/tmp" : "/box") != 0) child_failed(STAGE_CHDIR, errno);
  if (setgroups(0, NULL) != 0 || setresgid(prog_gid, prog_gid, prog_gid) != 0 || setresuid(prog_uid, prog_uid, prog_uid) != 0) child_failed(STAGE_IDENTITY, errno);
  /* The drop must be irreversible. */
  if (setuid(0) == 0 || getuid() != prog_uid || geteuid() != prog_uid || getegid() != prog_gid) child_failed(STAGE_IDENTITY, EPERM);
  /* The seccomp filter came from the init; no setuid file can raise privileges again. */
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) child_failed(STAGE_NO_NEW_PRIVS, errno);
  execve(s->argv[0], s->argv, s->envp);
  child_failed(STAGE_EXEC, errno);
}

static void send_status(int sock, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void send_status(int sock, const char *fmt, ...) {
  char line[128];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n > 0) (void)!send(sock, line, (size_t)n, MSG_NOSIGNAL);
}

/* Receives the spec and the stdin memfd from the supervisor, runs the program, reports, exits. */
_Noreturn void run_init(int sock, const int *procs, int nprocs, int helper) {
  /* The init dies with the supervisor; pid 1's death then takes the whole namespace. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) _exit(110);
  /* v1: join the run's groups first (cgroup v2 placed us there at clone time). */
  for (int i = 0; i < nprocs; i++) {
    if (write(procs[i], "0", 1) != 1) _exit(111);
    close(procs[i]);
  }
  /* /proc/self/cgroup shows "/" from here on. */
  if (unshare(CLONE_NEWCGROUP) != 0) _exit(112);
  /* Keep only the output pipes (1, 2) and our socket: not the judge's control pipe, the
   * status pipe, the host root, nor the socket of a run still in flight. */
  /* The session's output sockets too: each run writes into pipes of its own (see run()). */
  close(CTL_FD);
  close(1);
  close(2);
  if ((sock > 3 && syscall(SYS_close_range, 3u, (unsigned)sock - 1, 0u) != 0) || syscall(SYS_close_range, (unsigned)sock + 1, ~0u, 0u) != 0) _exit(112);
  /* The root path's supervisor has pivoted already; a user-namespace one left that to us (userns-view.c):
   * this pid namespace's /proc is mounted while the host's is still in view, then we pivot. */
  const char *at = view_root ? view_root : "";
  char path[4096];
  snprintf(path, sizeof path, "%s/proc", at);
  /* Read-only: the programs only read it, and a writable /proc/self/autogroup let any program set its
   * session's autogroup back to nice 0 (no privilege is needed for a nice value >= 0), undoing SANDBOX_NICE
   * for the session's later runs too. */
  if (mount("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL) != 0) _exit(113);
  char opts[64];
  snprintf(opts, sizeof opts, "size=%u,mode=1777", SHM_BYTES);
  snprintf(path, sizeof path, "%s/dev/shm", at);
  if (mount("sonocode-shm", path, "tmpfs", MS_NOSUID | MS_NODEV, opts) != 0) _exit(114);
  if (view_root) {
    if (chdir(view_root) != 0) _exit(118);
    if (syscall(SYS_pivot_root, ".", ".") != 0) _exit(119);
    if (umount2(".", MNT_DETACH) != 0) _exit(120 + (errno & 7));
    if (chdir("/") != 0) _exit(118);
  }
  if (sethostname("sandbox", 7) != 0) _exit(115);

  static char buf[MAX_SPEC];
  int stdio[MAX_RUN_FDS] = {-1, -1, -1, -1};
  int nfds = 0;
  char control[CMSG_SPACE(sizeof stdio)];
  struct iovec iov = {buf, sizeof buf - 1};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  ssize_t got;
  do got = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); while (got < 0 && errno == EINTR);
  if (got <= 0) _exit(0); /* the session ended before this run was used */
  struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
  /* 3 descriptors (stdin, stdout, stderr), or 4 for a paired run's helper (fd 3: its side input). */
  for (int n = 3; n <= MAX_RUN_FDS; n++)
    if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS && cm->cmsg_len == CMSG_LEN(n * sizeof(int))) {
      memcpy(stdio, CMSG_DATA(cm), n * sizeof(int));
      nfds = n;
    }
  static struct spec s;
  struct fields f = {buf, (size_t)got, 0};
  if (nfds == 0 || parse_spec(&f, &s) != 0) {
    send_status(sock, "error spec %d", EINVAL);
    _exit(0);
  }
  /* Tests see /box read-only (this mount namespace only): a test cannot change what the next one runs. */
  if (!s.writable && mount(NULL, "/box", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) != 0) {
    send_status(sock, "error box %d", errno);
    _exit(0);
  }
  snprintf(opts, sizeof opts, "size=%llu,mode=1777", s.tmp_bytes);
  if (mount("sonocode-tmp", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, opts) != 0) {
    send_status(sock, "error tmp %d", errno);
    _exit(0);
  }

  /* From here on the init itself is filtered (it still has CAP_SYS_ADMIN, so it needs no
   * no_new_privs for this): every process of the run, the init included, runs under the
   * policy, and the program inherits the filter. Nothing below needs a denied call. */
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &seccomp_filter, 0, 0) != 0) {
    send_status(sock, "error seccomp %d", errno);
    _exit(0);
  }
  int errpipe[2];
  if (pipe2(errpipe, O_CLOEXEC) != 0) _exit(116);
  long long start = now_us();
  pid_t child = fork();
  if (child < 0) {
    send_status(sock, "error fork %d", errno);
    _exit(0);
  }
  if (child == 0) {
    close(errpipe[0]);
    close(sock);
    exec_program(&s, stdio, nfds, errpipe[1], helper);
  }
  close(errpipe[1]);
  /* Only the program's tree holds the output pipes: their EOF comes with its end. */
  for (int i = 0; i < nfds; i++) close(stdio[i]);
  int report[2] = {0, 0};
  do got = read(errpipe[0], report, sizeof report); while (got < 0 && errno == EINTR);
  if (got == (ssize_t)sizeof report) {
    /* The program never started: the stage and errno go to the judge as a sandbox failure. */
    static const char *const stages[] = {"exec", "fds", "close", "rlimit", "chdir", "identity", "no_new_privs"};
    int stage = report[0] >= 0 && report[0] < (int)(sizeof stages / sizeof stages[0]) ? report[0] : 0;
    if (stage == STAGE_EXEC) send_status(sock, "execfail %d 0 0", report[1]);
    else send_status(sock, "error child-%s %d", stages[stage], report[1]);
    _exit(0);
  }
  if (got > 0) {
    send_status(sock, "error child-report %d", EIO);
    _exit(0);
  }
  /* Reap everything (orphans are re-parented to us) until the program itself exits; its rusage is reported. */
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
    if (r < 0 && errno != EINTR) _exit(117);
  }
  long long wall = now_us() - start;
  if (WIFSIGNALED(st)) send_status(sock, "signal %d %ld %lld", WTERMSIG(st), ru.ru_maxrss, wall);
  else send_status(sock, "exit %d %ld %lld", WEXITSTATUS(st), ru.ru_maxrss, wall);
  _exit(0);
}
