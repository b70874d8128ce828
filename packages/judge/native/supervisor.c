/*
 * sonocode supervisor: the bwrap engine's persistent sandbox executor, one process per
 * session, started by the judge (root) and alive until the session is disposed.
 *
 * Why it exists: starting a sandbox per run (a Node spawn, bwrap's namespace and mount
 * setup, a cgroup join) cost 6-9 ms per empty run. This process builds the session's
 * view once (slot network namespace, a private mount namespace pivoted into the
 * read-only rootfs with /dev and /box) and then, per run, only forks:
 *
 *   supervisor (host root, non-dumpable, pivoted into the sandbox view)
 *     |- run init  (pid 1 of a fresh pid/mount/ipc/uts/cgroup namespace, root,
 *     |  |          non-dumpable, in the run's cgroup from its first instruction)
 *     |  `- program (rlimits, slot uid, no_new_privs; then execve)
 *     `- helper init (paired runs only, see pair(): the same, in a cgroup of its own)
 *        `- helper (an interactor: the slot's helper uid, never the program's; its
 *                   stdin/stdout crossed with the program's, work dir its own /tmp)
 *
 * The run init is forked one run ahead ("prep"), into the next run's cgroup: on cgroup
 * v2 with clone3(CLONE_INTO_CGROUP), so it never runs outside it; on v1 it writes
 * itself into the group's cgroup.procs before anything else, and the RCU grace period
 * that costs (8-16 ms) overlaps the current run. It then mounts that run's fresh /proc
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
 *   config <parent-pid> <netns|-> <uid> <gid> <rootfs> <dev> <box> <seccomp-file> <favor-dynmods 0|1>
 *          -> "ready" | "fatal <stage> <errno>"
 *   prep <cgroup-version 1|2> <cgroup dir>...        (no answer; failures show at run)
 *   prepaux <cgroup-version> <uid> <cgroup dir>...   a paired run's helper init (its own uid and cgroup)
 *   run <seq> <marker-hex> <writable 0|1> <fsize> <nofile> <stack> <cpu-s> <tmp-bytes>
 *       <argc> <argv>... <envc> <env>... <stdin: "-" then raw bytes | "@" <path>>
 *       -> markers, then "<seq> exit|signal <n> <maxrss-kb> <wall-us>"
 *                       | "<seq> killed 0 0 0" (the init died: the host killed the group)
 *                       | "<seq> execfail <errno> 0 0" | "<seq> error <stage> <errno>"
 *                       (stage child-<step>: the program's own setup failed before exec)
 *   pair <seq> <marker-hex> <program spec> <helper spec> <helper's fd 3: "-" bytes | "@" path>
 *       a paired run (see pair()): markers, then "<seq>a <helper's answer>", then "<seq> <program's answer>"
 * An unprivileged judge sends "uconfig" instead of "config" (userns-view.c: the same view
 * from a user namespace, "userns" -> the judge maps it -> "mapped" -> "ready"), and writes
 * the session's files with "put <seq> <name> <bytes>" -> "<seq> put <errno>".
 * EOF on fd 0, or the judge's death (PR_SET_PDEATHSIG), kills everything and exits.
 * The run init is run-init.c, its preparation (prep, the run's stdin) init-prep.c, the
 * session's view (config) session-view.c; shared
 * declarations in supervisor.h. Built statically on the host by
 * src/sandbox/native-helpers.ts; never mounted inside.
 */
#include "supervisor.h"

#define MAX_MSG (256u << 20)
#define MARKER_BYTES 24

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

/* ---- the supervisor ------------------------------------------------------- */

static struct init prepared = {-1, -1};
/* A paired run's helper init (prepaux), forked into its own cgroup under its own uid. */
static struct init prepared_aux = {-1, -1};

static void end_markers(const unsigned char *marker) {
  /* Blocking writes: the judge always drains both pipes. */
  if (write_all(1, marker, MARKER_BYTES) != 0 || write_all(2, marker, MARKER_BYTES) != 0) _exit(0);
}

static int unhex(const char *hex, unsigned char *out) {
  if (!hex || strlen(hex) != MARKER_BYTES * 2) return -1;
  for (int i = 0; i < MARKER_BYTES; i++) {
    unsigned v;
    if (sscanf(hex + 2 * i, "%2x", &v) != 1) return -1;
    out[i] = (unsigned char)v;
  }
  return 0;
}

/* One init of the run in flight, and its answer once it has ended (and its pid namespace with it). */
struct side {
  struct init in;
  int ended;
  char reply[128];
  int status;
};

/* The run in flight: its init (and a paired run's helper init), and what to answer when it ends. */
static struct {
  struct side main;
  /* A paired run's helper; in.pid is -1 and ended 1 for a plain run. */
  struct side aux;
  int paired;
  /* Read ends of the run's output pipes, relayed to our fds 1 and 2; -1 once at EOF. A plain run: its
   * stdout and stderr. A paired run: the helper's stderr and the program's stderr (their stdouts are crossed). */
  int out[2];
  char seq[24];
  unsigned char marker[MARKER_BYTES];
  /* A run was handed out and is not answered yet. */
  int active;
} current = {{{-1, -1}, 0, "", 0}, {{-1, -1}, 0, "", 0}, 0, {-1, -1}, "", {0}, 0};

static int in_flight(void) {
  return current.active || current.main.in.pid > 0 || current.aux.in.pid > 0 || current.out[0] >= 0 || current.out[1] >= 0;
}

static void answer(const char *seq, const unsigned char *marker, const char *what) {
  end_markers(marker);
  status_line("%s %s", seq, what);
}

/* Hands one init its spec and descriptors; 0, or the errno of a failed send (EPIPE/ECONNRESET: the init died). */
static int hand_over(struct init *in, char *spec, size_t spec_len, const int *fds, int nfds) {
  char control[CMSG_SPACE(MAX_RUN_FDS * sizeof(int))];
  memset(control, 0, sizeof control);
  struct iovec iov = {spec, spec_len};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = CMSG_SPACE(nfds * sizeof(int))};
  struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
  memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
  ssize_t sent;
  do sent = sendmsg(in->sock, &msg, MSG_NOSIGNAL); while (sent < 0 && errno == EINTR);
  return sent < 0 ? errno : 0;
}

/* A failed send that leaves the init alive (e.g. ENOBUFS): it would wait for ever. EPIPE/ECONNRESET mean it died: init_ended() tells why. */
static int fatal_send(int err) {
  return err != 0 && err != EPIPE && err != ECONNRESET;
}

static void start_current(const char *seq, const unsigned char *marker, int out0, int out1, struct init main_in, struct init aux_in) {
  current.out[0] = out0;
  current.out[1] = out1;
  current.main = (struct side){main_in, 0, "", 0};
  current.paired = aux_in.pid > 0;
  /* A plain run has no helper: its side counts as ended. */
  current.aux = (struct side){aux_in, !current.paired, "", 0};
  current.active = 1;
  strcpy(current.seq, seq);
  memcpy(current.marker, marker, MARKER_BYTES);
}

/* Parses one spec from f (for an init to parse again); its bytes are f->buf[*at, *at + *len). */
static int take_spec(struct fields *f, size_t *at, size_t *len) {
  static struct spec probe;
  *at = f->at;
  if (parse_spec(f, &probe) != 0 || f->at - *at >= MAX_SPEC) return -1;
  *len = f->at - *at;
  return 0;
}

/* run: hands the spec, stdin and fresh output pipes to the prepared init and returns; the main loop relays and answers. */
static void run(struct fields *f) {
  const char *seq = next_field(f);
  unsigned char marker[MARKER_BYTES];
  if (!seq || strlen(seq) >= sizeof current.seq || unhex(next_field(f), marker) != 0 || in_flight()) fatal("protocol");
  struct init in = prepared;
  prepared.pid = -1;
  prepared.sock = -1;
  char why[48];
  /* The spec goes to the init as is: from <writable> up to the stdin part. */
  size_t spec_at, spec_len;
  if (take_spec(f, &spec_at, &spec_len) != 0) {
    drop(&in);
    snprintf(why, sizeof why, "error spec %d", EINVAL);
    answer(seq, marker, why);
    return;
  }
  int stdin_fd = in.pid > 0 ? make_stdin(f) : -ESRCH;
  if (stdin_fd < 0) {
    drop(&in);
    snprintf(why, sizeof why, "error %s %d", in.pid <= 0 ? "prep" : "stdin", -stdin_fd);
    answer(seq, marker, why);
    return;
  }
  /* The program writes into pipes of its own, never into the session's sockets: it could
   * shut those down or make them non-blocking for every later run. We relay. */
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) fatal("pipe");
  int stdio[3] = {stdin_fd, out[1], err[1]};
  int send_errno = hand_over(&in, f->buf + spec_at, spec_len, stdio, 3);
  for (int i = 0; i < 3; i++) close(stdio[i]);
  if (fatal_send(send_errno)) {
    drop(&in);
    close(out[0]);
    close(err[0]);
    snprintf(why, sizeof why, "error send %d", send_errno);
    answer(seq, marker, why);
    return;
  }
  /* A failed send means the init died (its setup failed, or the host killed its group): init_ended() tells which. */
  start_current(seq, marker, out[0], err[0], in, (struct init){-1, -1});
}

/*
 * pair <seq> <marker-hex> <program spec> <helper spec> <helper's fd 3: "-" then raw bytes | "@" <path>>:
 * the prepared init runs the program and the prepared helper init (prepaux) the helper, side
 * by side with their standard streams crossed: the helper's stdout is the program's stdin and
 * the program's stdout the helper's stdin (plain pipes, made here, held by nobody else). The
 * helper's stderr is relayed on fd 1, the program's on fd 2; both inits answer, the helper's
 * line ("<seq>a ...") first.
 */
static void pair(struct fields *f) {
  const char *seq = next_field(f);
  unsigned char marker[MARKER_BYTES];
  if (!seq || strlen(seq) >= sizeof current.seq - 1 || unhex(next_field(f), marker) != 0 || in_flight()) fatal("protocol");
  struct init in = prepared, aux = prepared_aux;
  prepared = (struct init){-1, -1};
  prepared_aux = (struct init){-1, -1};
  char why[48];
  size_t prog_at, prog_len, help_at, help_len;
  if (take_spec(f, &prog_at, &prog_len) != 0 || take_spec(f, &help_at, &help_len) != 0) {
    drop(&in);
    drop(&aux);
    snprintf(why, sizeof why, "error spec %d", EINVAL);
    answer(seq, marker, why);
    return;
  }
  int side_fd = in.pid > 0 && aux.pid > 0 ? make_stdin(f) : -ESRCH;
  if (side_fd < 0) {
    drop(&in);
    drop(&aux);
    snprintf(why, sizeof why, "error %s %d", side_fd == -ESRCH ? "prep" : "stdin", -side_fd);
    answer(seq, marker, why);
    return;
  }
  /* to_prog: helper -> program; to_help: program -> helper; the two stderrs, relayed. */
  int to_prog[2], to_help[2], help_err[2], prog_err[2];
  if (pipe2(to_prog, O_CLOEXEC) != 0 || pipe2(to_help, O_CLOEXEC) != 0 || pipe2(help_err, O_CLOEXEC) != 0 || pipe2(prog_err, O_CLOEXEC) != 0) fatal("pipe");
  int prog_fds[3] = {to_prog[0], to_help[1], prog_err[1]};
  int help_fds[4] = {to_help[0], to_prog[1], help_err[1], side_fd};
  int prog_errno = hand_over(&in, f->buf + prog_at, prog_len, prog_fds, 3);
  int help_errno = hand_over(&aux, f->buf + help_at, help_len, help_fds, 4);
  for (int i = 0; i < 3; i++) close(prog_fds[i]);
  for (int i = 0; i < 4; i++) close(help_fds[i]);
  if (fatal_send(prog_errno) || fatal_send(help_errno)) {
    drop(&in);
    drop(&aux);
    close(help_err[0]);
    close(prog_err[0]);
    snprintf(why, sizeof why, "error send %d", fatal_send(prog_errno) ? prog_errno : help_errno);
    answer(seq, marker, why);
    return;
  }
  start_current(seq, marker, help_err[0], prog_err[0], in, aux);
}

/* One init answered or died: wait for its whole pid namespace (every writer of its pipes). */
static void init_ended(struct side *side) {
  ssize_t got;
  do got = recv(side->in.sock, side->reply, sizeof side->reply - 1, MSG_DONTWAIT); while (got < 0 && errno == EINTR);
  side->reply[got > 0 ? got : 0] = '\0';
  /* Returns once every process of the run's pid namespace is gone (the kernel kills them when pid 1 exits). */
  while (waitpid(side->in.pid, &side->status, 0) < 0 && errno == EINTR) {
  }
  side->in.pid = -1;
  drop(&side->in);
  side->ended = 1;
}

/* Moves what the program wrote on one pipe to the session's socket (fd 1 or 2); closes the pipe at EOF. */
static void relay(int i) {
  int target = i + 1;
  ssize_t n;
  do n = splice(current.out[i], NULL, target, NULL, 1 << 20, 0); while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EINVAL) {
    /* No splice into this kind of descriptor: copy. */
    static char buf[1 << 16];
    do n = read(current.out[i], buf, sizeof buf); while (n < 0 && errno == EINTR);
    if (n > 0 && write_all(target, buf, (size_t)n) != 0) _exit(0);
  }
  if (n < 0 && errno != EAGAIN) _exit(0); /* the judge is gone */
  if (n == 0) {
    close(current.out[i]);
    current.out[i] = -1;
  }
}

/*
 * After the init's pid namespace is gone nothing can write any more, yet a write end may
 * outlive every process: a program can park its stdout in the queue of a unix socket it
 * abandons (SCM_RIGHTS), which only the kernel's garbage collector frees, whenever some
 * other unix socket on the host is released. So EOF is not awaited once the run ended:
 * what is buffered is relayed, then the pipe is closed.
 */
static void drain_after_end(void) {
  for (int i = 0; i < 2; i++) {
    while (current.out[i] >= 0) {
      int queued = 0;
      if (ioctl(current.out[i], FIONREAD, &queued) != 0 || queued <= 0) {
        close(current.out[i]);
        current.out[i] = -1;
        break;
      }
      relay(i);
    }
  }
}

/* What one init's end means: its own answer, or why it gave none. */
static void side_answer(const struct side *side, char *why, size_t size) {
  int st = side->status;
  if (side->reply[0]) snprintf(why, size, "%s", side->reply);
  else if (WIFEXITED(st) && WEXITSTATUS(st) != 0) snprintf(why, size, "error init %d", WEXITSTATUS(st));
  else snprintf(why, size, "killed 0 0 0");
}

/* Once every init of the run has ended and both pipes are drained: mark the output's end and answer. */
static void maybe_answer(void) {
  if (!current.active || !current.main.ended || !current.aux.ended) return;
  drain_after_end();
  current.active = 0;
  char why[160];
  end_markers(current.marker);
  if (current.paired) {
    side_answer(&current.aux, why, sizeof why);
    status_line("%sa %s", current.seq, why);
  }
  side_answer(&current.main, why, sizeof why);
  status_line("%s %s", current.seq, why);
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
  char *buf = NULL;
  size_t cap = 0;
  ssize_t len = read_message(&buf, &cap);
  if (len < 0) _exit(0);
  struct fields f = {buf, (size_t)len, 0};
  const char *cmd = next_field(&f);
  /* config: host root builds the view; uconfig: an unprivileged judge, through a user namespace (userns-view.c). */
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
    struct pollfd p[5] = {
        {CTL_FD, POLLIN, 0},
        {current.main.in.pid > 0 ? current.main.in.sock : -1, POLLIN, 0},
        {current.out[0], POLLIN, 0},
        {current.out[1], POLLIN, 0},
        {current.aux.in.pid > 0 ? current.aux.in.sock : -1, POLLIN, 0},
    };
    if (poll(p, 5, -1) < 0) {
      if (errno == EINTR) continue;
      fatal("poll");
    }
    if (p[2].revents) relay(0);
    if (p[3].revents) relay(1);
    if (p[1].revents) init_ended(&current.main);
    if (p[4].revents) init_ended(&current.aux);
    maybe_answer();
    if (!p[0].revents) continue;
    len = read_message(&buf, &cap);
    if (len < 0) break;
    f = (struct fields){buf, (size_t)len, 0};
    cmd = next_field(&f);
    if (cmd && strcmp(cmd, "prep") == 0) prepare(&f, &prepared, 0);
    else if (cmd && strcmp(cmd, "prepaux") == 0) prepare(&f, &prepared_aux, 1);
    else if (cmd && strcmp(cmd, "run") == 0) run(&f);
    else if (cmd && strcmp(cmd, "pair") == 0) pair(&f);
    else if (cmd && strcmp(cmd, "put") == 0) put_file(&f);
    else fatal("protocol");
    /* A big stdin is not kept: every later fork would copy its page tables. */
    if (cap > (1u << 20)) {
      free(buf);
      buf = NULL;
      cap = 0;
    }
  }
  drop(&current.main.in);
  drop(&current.aux.in);
  drop(&prepared);
  drop(&prepared_aux);
  return 0;
}
