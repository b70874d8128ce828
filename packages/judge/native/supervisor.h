/*
 * The bwrap engine's persistent executor, shared by its two halves: supervisor.c (the
 * session's supervisor: protocol and main loop; runs.c its runs and output relay; cross.c
 * a paired run's counted program -> helper stream; session-view.c, userns-view.c and
 * session-box.c the session's view; init-prep.c the run inits before their run) and
 * run-init.c (pid 1 of one run, and the program's last steps before exec). See
 * supervisor.c for the whole design.
 */
#ifndef SONOCODE_SUPERVISOR_H
#define SONOCODE_SUPERVISOR_H
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CTL_FD 0
#define STATUS_FD 3
#define MAX_SPEC (60u << 10)
#define MAX_FIELDS 4096
#define SHM_BYTES (16u << 20)

/* Set once by the supervisor's config, inherited by every run init. */
extern struct sock_fprog seccomp_filter;
extern uid_t prog_uid;
extern gid_t prog_gid;
/* The host's root, opened before the pivot: the run cgroups and stdin files are reached through it. */
extern int host_root;

/* Writes all of buf; -1 when fd is gone. */
int write_all(int fd, const void *buf, size_t len);
/* A status line to the judge (fd 3); the judge being gone ends the supervisor. */
void status_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "fatal <stage> <errno>" to the judge, then exit. */
_Noreturn void fatal(const char *stage);

static inline int parse_u64(const char *s, unsigned long long *out) {
  char *end = NULL;
  errno = 0;
  if (!s || *s == '\0' || *s == '-') return -1;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || !end || *end) return -1;
  *out = v;
  return 0;
}

/* A message's fields: NUL-terminated strings; `rest` is where the last parsed field ended. */
struct fields {
  char *buf;
  size_t len;
  size_t at;
};

static inline const char *next_field(struct fields *f) {
  if (f->at >= f->len) return NULL;
  char *s = f->buf + f->at;
  char *nul = memchr(s, '\0', f->len - f->at);
  if (!nul) return NULL;
  f->at = (size_t)(nul - f->buf) + 1;
  return s;
}

static inline int next_u64(struct fields *f, unsigned long long *out) {
  return parse_u64(next_field(f), out);
}

/*
 * config <parent-pid> <uid> <gid> <box-bytes> <seccomp-file> <netns|-> <rootfs> <dev>:
 * the session's view from host root (session-view.c).
 */
void configure(struct fields *f);
/* uconfig <parent-pid> <uid> <gid> <box-bytes> <seccomp-file> <layers> <root>: the view from a user namespace (userns-view.c). */
void configure_userns(struct fields *f);
/*
 * Both configs begin alike: "<parent-pid> <uid> <gid> <box-bytes> <seccomp-file>" parsed, the
 * judge checked to be our parent, the program's ids and the seccomp filter kept, the host
 * root opened (session-view.c). Returns the size cap of the session's /box.
 */
unsigned long long begin_config(struct fields *f);
/* Paths of the view (its root, and below it), which the judge keeps short. */
#define MAX_ROOT 1024
#define VIEW_PATH 1280
/* The session's /box: a size-capped tmpfs of the program's at <root>/box, in our mount namespace only (session-box.c). */
void mount_box(const char *root, unsigned long long box_bytes);
/* put <seq> <name> <bytes>: a file of the judge's into the session's /box (session-box.c). */
void put_file(struct fields *f);
/* The unpivoted view a run init pivots into itself (user-namespace sessions); NULL: the supervisor pivoted. */
extern const char *view_root;

/* One run init the supervisor forked (init-prep.c), waiting for or running its spec. */
struct init {
  pid_t pid;
  int sock; /* the supervisor's end of the init's socketpair; -1 when there is none */
};
/* Kills and reaps an init and closes its socket; the slot is then empty. */
void drop(struct init *in);
/* prep <version> <dir>... / prepaux <version> <uid> <dir>...: forks the next init into slot (helper: prepaux). */
void prepare(struct fields *f, struct init *slot, int helper);
/* The runs (runs.c): prep/prepaux, run and pair, and the main loop's part in them. */
void prep_command(struct fields *f, int helper);
void run_command(struct fields *f);
void pair_command(struct fields *f);
/* The run's fds the main loop polls (RUN_POLL_FDS entries), and what their events mean. */
#define RUN_POLL_FDS 6
void runs_poll_fds(struct pollfd *p);
void runs_events(const struct pollfd *p);
/* At the session's end: every init killed and reaped. */
void runs_end(void);
/*
 * A paired run's program -> helper stream, relayed by the supervisor so that it is counted
 * (cross.c): from: the read end of the program's stdout pipe; to: the write end of the
 * helper's stdin pipe (both ours only, non-blocking; -1 once closed); blocked: the helper's
 * pipe was full, wait until it can take more; crossed: bytes moved; limit: the program's
 * output limit, which it passes by writing one byte more (the pair is then ended there).
 */
struct crossing {
  int from, to, blocked;
  unsigned long long crossed, limit;
};
/* Moves what is readable from c->from to c->to and counts it; past the limit both inits are killed and the stream ended. */
void cross(struct crossing *c, pid_t program_init, pid_t helper_init);
/* Closes both ends (those still open): the stream is over. */
void end_cross(struct crossing *c);
/* The run's stdin ("-" then raw bytes, or "@" <host path>) as a sealed memfd; -errno on failure. */
int make_stdin(struct fields *f);


struct spec {
  unsigned long long writable, fsize, nofile, stack, cpu, tmp_bytes;
  char *argv[MAX_FIELDS + 1];
  char *envp[MAX_FIELDS + 1];
};

/* Parses "<writable> <fsize> <nofile> <stack> <cpu> <tmp> <argc> argv... <envc> env..." (run-init.c). */
int parse_spec(struct fields *f, struct spec *s);
/*
 * A run gets its stdin, stdout and stderr, and a paired run's helper also a fourth
 * descriptor (fd 3 inside: its side input, e.g. the interactor's test files).
 */
#define MAX_RUN_FDS 4
/*
 * Stages of the program's own setup in the forked child (run-init.c), reported through the
 * close-on-exec error pipe with the errno: a failure there is the sandbox's, never the program's.
 */
enum child_stage { STAGE_EXEC = 0, STAGE_FDS, STAGE_CLOSE, STAGE_RLIMIT, STAGE_CHDIR, STAGE_IDENTITY, STAGE_NO_NEW_PRIVS };
/*
 * The run init: joins its v1 groups, mounts its /proc and /dev/shm, waits for its spec on sock, runs (run-init.c).
 * helper: the init of a paired run's helper (its own uid; the program's /box is not its work dir: /tmp is).
 */
_Noreturn void run_init(int sock, const int *procs, int nprocs, int helper);

#endif
