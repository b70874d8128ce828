/*
 * The supervisor's run inits before their run (supervisor.c): "prep"/"prepaux" fork the
 * next run's init into its cgroup (clone3 with CLONE_INTO_CGROUP on v2, a cgroup.procs
 * join on v1) with fresh pid/mount/ipc/uts namespaces, and a run's stdin becomes a sealed
 * memfd. Host paths are opened through the host root kept by the session's config.
 */
#include "supervisor.h"

#define MAX_CGROUP_DIRS 8

void drop(struct init *in) {
  if (in->pid > 0) {
    kill(in->pid, SIGKILL);
    waitpid(in->pid, NULL, 0);
  }
  if (in->sock >= 0) close(in->sock);
  in->pid = -1;
  in->sock = -1;
}

static pid_t clone_init(unsigned long long flags, int cgroup_fd) {
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.flags = flags | (cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0);
  args.exit_signal = SIGCHLD;
  args.cgroup = cgroup_fd >= 0 ? (unsigned long long)cgroup_fd : 0;
  return (pid_t)syscall(SYS_clone3, &args, sizeof args);
}

/*
 * prep <version> <dir>...: the next run's init, in its cgroup, waiting for its spec.
 * prepaux <version> <uid> <dir>...: the same for a paired run's helper, which runs as
 * `uid` (never root, never the program's uid) in a cgroup of its own.
 */
void prepare(struct fields *f, struct init *slot, int helper) {
  drop(slot);
  const char *version = next_field(f);
  uid_t uid = prog_uid;
  if (helper) {
    unsigned long long value;
    if (next_u64(f, &value) != 0 || value == 0 || value == prog_uid || value > 0xfffffffeULL) return;
    uid = (uid_t)value;
  }
  const char *dirs[MAX_CGROUP_DIRS];
  int ndirs = 0;
  for (const char *d; ndirs < MAX_CGROUP_DIRS && (d = next_field(f));) dirs[ndirs++] = d;
  if (!version || ndirs == 0) return;
  int cgroup_fd = -1;
  int procs[MAX_CGROUP_DIRS];
  int nprocs = 0;
  /* Paths are absolute host paths (resolved by the judge), opened through the host root we kept. */
  if (strcmp(version, "2") == 0) {
    cgroup_fd = openat(host_root, dirs[0] + 1, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cgroup_fd < 0) return;
  } else {
    for (int i = 0; i < ndirs; i++) {
      char path[4096];
      snprintf(path, sizeof path, "%s/cgroup.procs", dirs[i] + 1);
      int fd = openat(host_root, path, O_WRONLY | O_CLOEXEC);
      if (fd < 0) goto out;
      procs[nprocs++] = fd;
    }
  }
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) goto out;
  unsigned long long flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS;
  pid_t pid = clone_init(flags, cgroup_fd);
  if (pid < 0 && cgroup_fd >= 0 && (errno == ENOSYS || errno == E2BIG || errno == EINVAL)) {
    /* Before Linux 5.7 there is no CLONE_INTO_CGROUP: the init joins by writing cgroup.procs. */
    char path[4096];
    snprintf(path, sizeof path, "%s/cgroup.procs", dirs[0] + 1);
    int fd = openat(host_root, path, O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
      procs[nprocs++] = fd;
      close(cgroup_fd);
      cgroup_fd = -1;
      pid = clone_init(flags, -1);
    }
  }
  if (pid < 0 && errno == ENOSYS) pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
  if (pid == 0) {
    close(sv[0]);
    /* This init's identity for its program (a helper: its own uid, with the same number as gid). */
    prog_uid = uid;
    if (helper) prog_gid = (gid_t)uid;
    run_init(sv[1], procs, nprocs, helper);
  }
  close(sv[1]);
  if (pid < 0) {
    close(sv[0]);
    goto out;
  }
  slot->pid = pid;
  slot->sock = sv[0];
out:
  if (cgroup_fd >= 0) close(cgroup_fd);
  for (int i = 0; i < nprocs; i++) close(procs[i]);
}

/* The run's stdin as a sealed memfd: no pipe to feed, no host path in /proc/self/fd/0. */
int make_stdin(struct fields *f) {
  const char *kind = next_field(f);
  if (!kind) return -EINVAL;
  int fd = memfd_create("stdin", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return -errno;
  if (strcmp(kind, "-") == 0) {
    if (write_all(fd, f->buf + f->at, f->len - f->at) != 0) goto fail;
  } else if (strcmp(kind, "@") == 0) {
    const char *path = next_field(f);
    if (!path || path[0] != '/') {
      errno = EINVAL;
      goto fail;
    }
    int in = openat(host_root, path + 1, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (in < 0) goto fail;
    for (;;) {
      ssize_t n = sendfile(fd, in, NULL, 1 << 30);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        int err = errno;
        close(in);
        errno = err;
        goto fail;
      }
      if (n == 0) break;
    }
    close(in);
  } else {
    errno = EINVAL;
    goto fail;
  }
  if (lseek(fd, 0, SEEK_SET) != 0) goto fail;
  if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0) goto fail;
  return fd;
fail:;
  int err = errno ? errno : EIO;
  close(fd);
  return -err;
}
