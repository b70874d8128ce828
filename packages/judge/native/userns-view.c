/*
 * The supervisor's "uconfig" command (supervisor.c): the session's view for an evaluator
 * that is not root (cgroup v2, a delegated subtree). The same sandbox as "config" builds
 * (session-view.c), reached from a user namespace instead of host root:
 *
 *   - the supervisor creates a user namespace, and the judge maps it from outside with the
 *     setuid newuidmap/newgidmap: ns 0 is the evaluator's own uid, and the slot's program
 *     and helper uids are two of the evaluator user's subordinate ids (/etc/subuid), so a
 *     program is never the evaluator's uid, nor another slot's (engines/bwrap/userns.ts);
 *   - in it: a fresh network namespace (only a loopback, down) and a private mount
 *     namespace where the read-only overlay of the runtime rootfs, the /dev tmpfs (the
 *     five devices bound from the host's: no mknod in a user namespace) and the session's
 *     size-capped /box tmpfs are mounted; nothing of that shows on the host;
 *   - no pivot here: the kernel lets a user namespace mount a procfs only where a fully
 *     visible one is in view, so each run init mounts its /proc first, then pivots into
 *     the view itself and detaches the old root (view_root, run-init.c);
 *   - /box lives in this mount namespace only (as on the root path: session-box.c), so the
 *     judge writes a session's files through "put", never by a host path.
 *
 * What the program cannot do here either: it runs as a mapped uid with no capability
 * (run-init.c drops like the root path), under the same seccomp filter (no nested user
 * namespace: clone/unshare with CLONE_NEW* are refused), and the supervisor and inits are
 * non-dumpable processes of another uid (the evaluator's).
 */
#include "supervisor.h"

/* Where the view is mounted (a directory of the judge's work root), NULL on the root path. */
const char *view_root = NULL;
static void must_mount(const char *source, const char *target, const char *type, unsigned long flags, const char *data, const char *stage) {
  if (mount(source, target, type, flags, data) != 0) fatal(stage);
}

/* The host's device node bound onto a file of the /dev tmpfs (the bind carries the host mount's flags: no remount). */
static void bind_device(const char *dev, const char *name) {
  char at[VIEW_PATH + 16];
  snprintf(at, sizeof at, "%s/%s", dev, name);
  int fd = open(at, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) fatal("dev");
  close(fd);
  char host[64];
  snprintf(host, sizeof host, "/dev/%s", name);
  must_mount(host, at, NULL, MS_BIND, NULL, "dev");
}

static void build_view(const char *layers, const char *root, unsigned long long box_bytes) {
  /* overlay shows its layers as given: relative names from the private layers dir hide the host path. */
  if (chdir(layers) != 0) fatal("layers");
  must_mount("sonocode-rootfs", root, "overlay", MS_RDONLY | MS_NOSUID | MS_NODEV, "lowerdir=r:e", "overlay");
  if (chdir("/") != 0) fatal("layers");
  char dev[MAX_ROOT + 8], at[VIEW_PATH];
  snprintf(dev, sizeof dev, "%s/dev", root);
  must_mount("sonocode-dev", dev, "tmpfs", MS_NOSUID, "size=64k,nr_inodes=64,mode=755", "dev");
  static const char *const devices[] = {"null", "zero", "full", "random", "urandom"};
  for (size_t i = 0; i < sizeof devices / sizeof devices[0]; i++) bind_device(dev, devices[i]);
  static const char *const links[][2] = {{"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"}};
  for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
    snprintf(at, sizeof at, "%s/%s", dev, links[i][0]);
    if (symlink(links[i][1], at) != 0) fatal("dev");
  }
  snprintf(at, sizeof at, "%s/shm", dev);
  if (mkdir(at, 0755) != 0) fatal("dev");
  must_mount(NULL, dev, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID, NULL, "dev");
  mount_box(root, box_bytes);
}

/* uconfig <parent-pid> <uid> <gid> <box-bytes> <seccomp-file> <layers> <root>: the session's view in a user namespace. */
void configure_userns(struct fields *f) {
  unsigned long long parent = (unsigned long long)getppid(), box_bytes = begin_config(f);
  const char *layers = next_field(f), *root = next_field(f);
  if (!layers || !root || layers[0] != '/' || root[0] != '/' || strlen(root) >= MAX_ROOT) fatal("config");
  if (unshare(CLONE_NEWUSER) != 0) fatal("userns");
  /*
   * newuidmap, run by the judge as the same user, refuses a process whose /proc/<pid> is
   * not that user's, and a non-dumpable one's belongs to root: dumpable only until the
   * maps are written (nothing untrusted exists yet; only the evaluator's own uid could
   * look), then never again.
   */
  if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0) fatal("dumpable");
  status_line("userns");
  uint32_t len;
  char word[8];
  if (read(CTL_FD, &len, sizeof len) != (ssize_t)sizeof len || len != 7 || read(CTL_FD, word, 7) != 7 || memcmp(word, "mapped", 7) != 0) fatal("mapped");
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) fatal("dumpable");
  /* The judge mapped us as root here; the parent-death signal survives, the check makes sure. */
  if (getuid() != 0 || getgid() != 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || (unsigned long long)getppid() != parent) fatal("mapped");
  /* Owned by our user namespace: the program (no capability in it) cannot configure it. */
  if (unshare(CLONE_NEWNET) != 0) fatal("netns");
  if (unshare(CLONE_NEWNS) != 0) fatal("mountns");
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) fatal("private");
  build_view(layers, root, box_bytes);
  /* Our own copy: the message buffer is reused for the next command. */
  if (!(view_root = strdup(root))) fatal("malloc");
  status_line("ready");
}
