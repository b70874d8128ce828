/*
 * The supervisor's "config" command (supervisor.c): the session's view, built once before
 * any run. It loads the seccomp filter every run init installs, keeps a descriptor of the
 * host root (the run cgroups and a stdin file are opened through it after the pivot),
 * enters the slot's network namespace, and pivots a private mount namespace into the
 * read-only rootfs with the engine's /dev and the session's own /box tmpfs (session-box.c:
 * mounted here, so the judge spawns no mount or umount per session, and it goes away with
 * this mount namespace, however the supervisor ends), the old root detached.
 */
#include "supervisor.h"

/* The run inits' seccomp filter (classic BPF from the judge) into seccomp_filter. */
static void load_filter(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) fatal("seccomp");
  static struct sock_filter insns[4096];
  ssize_t got = read(fd, insns, sizeof insns);
  close(fd);
  if (got <= 0 || got % (ssize_t)sizeof insns[0] != 0) {
    errno = EINVAL;
    fatal("seccomp");
  }
  seccomp_filter.len = (unsigned short)(got / (ssize_t)sizeof insns[0]);
  seccomp_filter.filter = insns;
}

static void bind_at(const char *source, const char *target, unsigned long flags) {
  if (mount(source, target, NULL, MS_BIND, NULL) != 0) fatal("bind");
  if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | flags, NULL) != 0) fatal("remount");
}

unsigned long long begin_config(struct fields *f) {
  unsigned long long parent, uid, gid, box_bytes;
  if (next_u64(f, &parent) || next_u64(f, &uid) || next_u64(f, &gid) || uid == 0 || gid == 0 || next_u64(f, &box_bytes) || box_bytes == 0) fatal("config");
  const char *seccomp = next_field(f);
  if (!seccomp) fatal("config");
  /* The judge may have died before PR_SET_PDEATHSIG was armed. */
  if ((unsigned long long)getppid() != parent) fatal("parent");
  prog_uid = (uid_t)uid;
  prog_gid = (gid_t)gid;
  load_filter(seccomp);
  host_root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (host_root < 0) fatal("root");
  return box_bytes;
}

/* config: the session's view, built once. */
void configure(struct fields *f) {
  unsigned long long box_bytes = begin_config(f);
  const char *netns = next_field(f), *rootfs = next_field(f), *dev = next_field(f);
  if (!netns || !rootfs || !dev || rootfs[0] != '/' || strlen(rootfs) >= MAX_ROOT) fatal("config");
  if (strcmp(netns, "-") != 0) {
    int fd = open(netns, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) fatal("netns");
    close(fd);
  } else if (unshare(CLONE_NEWNET) != 0) {
    fatal("netns");
  }
  /* A private mount namespace: nothing we mount shows on the host, and the host's later mounts do not show here. */
  if (unshare(CLONE_NEWNS) != 0) fatal("mountns");
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) fatal("private");
  bind_at(rootfs, rootfs, MS_RDONLY | MS_NOSUID | MS_NODEV);
  char at[VIEW_PATH];
  snprintf(at, sizeof at, "%s/dev", rootfs);
  bind_at(dev, at, MS_RDONLY | MS_NOSUID);
  mount_box(rootfs, box_bytes);
  /* pivot_root(".", ".") stacks the old root under the new one; detaching it leaves only the sandbox view. */
  if (chdir(rootfs) != 0 || syscall(SYS_pivot_root, ".", ".") != 0 || umount2(".", MNT_DETACH) != 0 || chdir("/") != 0) fatal("pivot");
  status_line("ready");
}
