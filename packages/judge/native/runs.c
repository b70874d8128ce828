/*
 * The supervisor's runs (supervisor.c has the design and the protocol): "prep"/"prepaux"
 * keep the next run's inits (forked by init-prep.c), "run" and "pair" hand them their
 * spec, stdin and fresh output pipes, and the main loop's events relay the runs' output
 * to the session's fds 1 and 2 (and a paired run's program -> helper stream, counted:
 * cross.c) and answer once every init of the run, and its whole pid namespace, has ended.
 */
#include "supervisor.h"

#define MARKER_BYTES 24

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
  /* A paired run's program -> helper stream (cross.c); from and to are -1 otherwise. */
  struct crossing cross;
} current = {{{-1, -1}, 0, "", 0}, {{-1, -1}, 0, "", 0}, 0, {-1, -1}, "", {0}, 0, {-1, -1, 0, 0, 0}};

static int in_flight(void) {
  return current.active || current.main.in.pid > 0 || current.aux.in.pid > 0 || current.out[0] >= 0 || current.out[1] >= 0 || current.cross.from >= 0 ||
         current.cross.to >= 0;
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
  current.cross.blocked = 0;
  current.cross.crossed = 0;
  current.cross.limit = 0;
  strcpy(current.seq, seq);
  memcpy(current.marker, marker, MARKER_BYTES);
}

static void pin_to_run(pid_t init);
static void pin(void);
static void unpin(void);

/* Parses one spec from f (for an init to parse again); its bytes are f->buf[*at, *at + *len). */
static int take_spec(struct fields *f, size_t *at, size_t *len) {
  static struct spec probe;
  *at = f->at;
  if (parse_spec(f, &probe) != 0 || f->at - *at >= MAX_SPEC) return -1;
  *len = f->at - *at;
  return 0;
}

/* run: hands the spec, stdin and fresh output pipes to the prepared init and returns; the main loop relays and answers. */
void run_command(struct fields *f) {
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
 * pair <seq> <marker-hex> <program's output limit> <program spec> <helper spec> <helper's fd 3: "-" then raw bytes | "@" <path>>:
 * the prepared init runs the program and the prepared helper init (prepaux) the helper, side
 * by side with their standard streams crossed: the helper's stdout is the program's stdin (a
 * plain pipe, made here, held by nobody else), and the program's stdout reaches the helper's
 * stdin through us: two pipes, spliced from one to the other as bytes arrive (cross.c), so
 * the program's output is counted like a plain run's. Once the program has written more than
 * its output limit the pair is ended (both inits killed); its answer line carries the count
 * as a last field ("<seq> <answer> <crossed>"). The helper's output towards the program is
 * not counted: it is the problem's, and the program's reading of it is bounded by the
 * program's own memory limit. The helper's stderr is relayed on fd 1, the program's on fd 2;
 * both inits answer, the helper's line ("<seq>a ...") first.
 */
void pair_command(struct fields *f) {
  const char *seq = next_field(f);
  unsigned char marker[MARKER_BYTES];
  unsigned long long limit;
  if (!seq || strlen(seq) >= sizeof current.seq - 1 || unhex(next_field(f), marker) != 0 || next_u64(f, &limit) != 0 || in_flight()) fatal("protocol");
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
  /*
   * to_prog: helper -> program; prog_out and help_in: program -> us -> helper (relayed,
   * counted); the two stderrs, relayed. Our ends are non-blocking (their own open file
   * descriptions: the program's and the helper's ends stay as they were).
   */
  int to_prog[2], prog_out[2], help_in[2], help_err[2], prog_err[2];
  if (pipe2(to_prog, O_CLOEXEC) != 0 || pipe2(prog_out, O_CLOEXEC) != 0 || pipe2(help_in, O_CLOEXEC) != 0 || pipe2(help_err, O_CLOEXEC) != 0 ||
      pipe2(prog_err, O_CLOEXEC) != 0)
    fatal("pipe");
  if (fcntl(prog_out[0], F_SETFL, O_NONBLOCK) != 0 || fcntl(help_in[1], F_SETFL, O_NONBLOCK) != 0) fatal("pipe");
  int prog_fds[3] = {to_prog[0], prog_out[1], prog_err[1]};
  int help_fds[4] = {help_in[0], to_prog[1], help_err[1], side_fd};
  int prog_errno = hand_over(&in, f->buf + prog_at, prog_len, prog_fds, 3);
  int help_errno = hand_over(&aux, f->buf + help_at, help_len, help_fds, 4);
  for (int i = 0; i < 3; i++) close(prog_fds[i]);
  for (int i = 0; i < 4; i++) close(help_fds[i]);
  if (fatal_send(prog_errno) || fatal_send(help_errno)) {
    drop(&in);
    drop(&aux);
    close(help_err[0]);
    close(prog_err[0]);
    close(prog_out[0]);
    close(help_in[1]);
    snprintf(why, sizeof why, "error send %d", fatal_send(prog_errno) ? prog_errno : help_errno);
    answer(seq, marker, why);
    return;
  }
  start_current(seq, marker, help_err[0], prog_err[0], in, aux);
  current.cross.from = prog_out[0];
  current.cross.to = help_in[1];
  current.cross.limit = limit;
  pin_to_run(in.pid);
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
 * While a paired run is in flight the supervisor runs on the run's CPUs (the slot's cpuset, as
 * the program's init has it): it is on the path of every message from the program to the
 * helper, and a wakeup sent to another CPU, idle in a VM, cost 50+ us per message instead of
 * ~3 us (the kernel prefers an idle CPU for the woken relay; the sender pays the IPI in its
 * own CPU time). Unpinned slots change nothing (the init's CPUs are ours). Undone before any
 * fork (a prepared init must not inherit it) and when the pair answers.
 */
static cpu_set_t own_cpus, run_cpus;
static int pin_wanted, pinned;

static void pin(void) {
  if (pin_wanted && !pinned && sched_setaffinity(0, sizeof run_cpus, &run_cpus) == 0) pinned = 1;
}

static void unpin(void) {
  if (pinned && sched_setaffinity(0, sizeof own_cpus, &own_cpus) == 0) pinned = 0;
}

static void pin_to_run(pid_t init) {
  pin_wanted = 0;
  if (pinned || sched_getaffinity(0, sizeof own_cpus, &own_cpus) != 0 || sched_getaffinity(init, sizeof run_cpus, &run_cpus) != 0) return;
  pin_wanted = !CPU_EQUAL(&own_cpus, &run_cpus);
  pin();
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
  unpin();
  pin_wanted = 0;
  current.active = 0;
  char why[160];
  end_markers(current.marker);
  if (current.paired) {
    side_answer(&current.aux, why, sizeof why);
    status_line("%sa %s", current.seq, why);
  }
  side_answer(&current.main, why, sizeof why);
  if (current.paired) status_line("%s %s %llu", current.seq, why, current.cross.crossed);
  else status_line("%s %s", current.seq, why);
}


void prep_command(struct fields *f, int helper) {
  /* The next init is a fork of ours: never with a paired run's CPUs (pin_to_run()). */
  unpin();
  prepare(f, helper ? &prepared_aux : &prepared, helper);
  pin();
}

void runs_poll_fds(struct pollfd *p) {
  p[0] = (struct pollfd){current.main.in.pid > 0 ? current.main.in.sock : -1, POLLIN, 0};
  p[1] = (struct pollfd){current.out[0], POLLIN, 0};
  p[2] = (struct pollfd){current.out[1], POLLIN, 0};
  p[3] = (struct pollfd){current.aux.in.pid > 0 ? current.aux.in.sock : -1, POLLIN, 0};
  /* The crossing: the program's pipe while the helper's has room, else the helper's for room;
   * the helper's end is always polled for POLLERR (its reader gone). */
  p[4] = (struct pollfd){current.cross.blocked ? -1 : current.cross.from, POLLIN, 0};
  p[5] = (struct pollfd){current.cross.to, current.cross.blocked ? POLLOUT : 0, 0};
}

void runs_events(const struct pollfd *p) {
  if (p[4].revents || p[5].revents) {
    if (current.cross.to >= 0 && (p[5].revents & POLLERR)) end_cross(&current.cross);
    else if (current.cross.from >= 0) cross(&current.cross, current.main.in.pid, current.aux.in.pid);
  }
  if (p[1].revents) relay(0);
  if (p[2].revents) relay(1);
  if (p[0].revents) init_ended(&current.main);
  if (p[3].revents) init_ended(&current.aux);
  /*
   * The program's side is over: what it wrote is still passed on, then the helper gets EOF,
   * whether or not a write end outlives the run (parked in a socket: see drain_after_end()).
   * Once the helper is gone nothing reads any more.
   */
  if (current.cross.from >= 0 && current.main.ended && !current.cross.blocked) {
    int queued = 0;
    if (ioctl(current.cross.from, FIONREAD, &queued) != 0 || queued <= 0) end_cross(&current.cross);
  }
  if (current.aux.ended) end_cross(&current.cross);
  maybe_answer();
}

void runs_end(void) {
  drop(&current.main.in);
  drop(&current.aux.in);
  drop(&prepared);
  drop(&prepared_aux);
}
