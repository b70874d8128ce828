/*
 * sonocode docker root view: gives a fresh session container a root filesystem whose
 * mount options name no host path, before any program runs in it.
 *
 * Why: Docker's overlay2 root shows its layer dirs in every mountinfo line of the
 * container ("lowerdir=/var/lib/docker/overlay2/l/...,upperdir=...,workdir=..."): the
 * kernel prints an overlay's options as they were given, and Docker gives absolute host
 * paths. A bind of that root would show the same options (they belong to the
 * superblock). So the container's root is replaced by a read-only overlay of its own
 * whose only layers are relative names ("lowerdir=r:e": "r" is the old root, "e" an
 * empty dir), resolved at mount time from a private scratch tmpfs.
 *
 * How: run on the host, as root, with the container init's host pid. Reads the init's
 * mount table from the host's /proc first (inside the container's mount namespace our
 * /proc/self would not resolve: we are not in its pid namespace), then joins only its
 * mount namespace (setns; nothing of the container is executed, this binary is the
 * host's). There it mounts the new overlay under /mnt, moves every visible top-level
 * mount (/proc, /dev, /box, /tmp, /sys, /etc/hosts, ...) into it, and pivots: the kernel
 * moves the root of every process whose root was the old one (the container's init)
 * to the new one, and `docker exec` joins this same namespace, whose root is now ours.
 * The old root, with mounts it shadowed (Docker's cgroup mounts under our /sys tmpfs),
 * is detached. The new root is read-only like the old one (ReadonlyRootfs).
 *
 * usage: root-view <init host pid>     exit 0, or 1 with "<stage>: <error>" on stderr
 * Built statically on the host by root-view.ts. Never mounted into a container.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_MOUNTS 256
#define SCRATCH "/mnt"
#define NEW_ROOT SCRATCH "/root"

static void die(const char *stage) {
  fprintf(stderr, "%s: %s\n", stage, strerror(errno));
  exit(1);
}

static void die_msg(const char *stage, const char *msg) {
  fprintf(stderr, "%s: %s\n", stage, msg);
  exit(1);
}

struct entry {
  long id, parent;
  char point[1024];
};

static struct entry mounts[MAX_MOUNTS];
static int nmounts;

/* The init's mount table, as it sees it (paths relative to its root). */
static void read_mounts(int proc) {
  int mfd = openat(proc, "mountinfo", O_RDONLY | O_CLOEXEC);
  FILE *f = mfd < 0 ? NULL : fdopen(mfd, "re");
  if (!f) die("mountinfo");
  char line[8192];
  while (fgets(line, sizeof line, f)) {
    if (nmounts == MAX_MOUNTS) die_msg("mountinfo", "too many mounts");
    struct entry *e = &mounts[nmounts];
    char point[1024];
    if (sscanf(line, "%ld %ld %*s %*s %1023s", &e->id, &e->parent, point) != 3) die_msg("mountinfo", "unparsable line");
    /* Escaped characters (\040 ...) never occur in Docker's mount points: refuse rather than guess. */
    if (strchr(point, '\\') || point[0] != '/') die_msg("mountinfo", "unexpected mount point");
    strcpy(e->point, point);
    nmounts++;
  }
  fclose(f);
  if (nmounts == 0 || strcmp(mounts[0].point, "/") != 0) die_msg("mountinfo", "the first mount is not the root");
}

/* b is a or lies below it. */
static int covers(const char *a, const char *b) {
  size_t n = strlen(a);
  if (strcmp(a, "/") == 0) return 1;
  return strncmp(a, b, n) == 0 && (b[n] == '\0' || b[n] == '/');
}

int main(int argc, char **argv) {
  if (argc != 2 || strspn(argv[1], "0123456789") != strlen(argv[1]) || argv[1][0] == '\0') die_msg("usage", "root-view <pid>");
  /* Everything about the target is read through one /proc/<pid> handle: should the init die
   * and its pid be reused, openat through it fails instead of naming the newcomer. */
  char dir[64];
  snprintf(dir, sizeof dir, "/proc/%s", argv[1]);
  int proc = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (proc < 0) die("open process");
  int fd = openat(proc, "ns/mnt", O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("open mount namespace");
  /* A pid in our own mount namespace is no container (a stale or reused pid, a wrong
   * caller): what follows there would move the host's own mounts and pivot its root. */
  struct stat target, self;
  if (fstat(fd, &target) != 0 || stat("/proc/self/ns/mnt", &self) != 0) die("stat mount namespace");
  if (target.st_dev == self.st_dev && target.st_ino == self.st_ino) die_msg("setns", "the process is in this mount namespace, not a container's");
  read_mounts(proc);
  close(proc);
  /* Our root and cwd become the container's root. */
  if (setns(fd, CLONE_NEWNS) != 0) die("setns");
  close(fd);
  if (chdir("/") != 0) die("chdir");
  /* Nothing we do here propagates back to the host (Docker's root is a slave of it). */
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) die("make private");

  struct stat st;
  if (stat(SCRATCH, &st) != 0 || !S_ISDIR(st.st_mode)) die_msg("scratch", "the image has no " SCRATCH " directory");
  if (mount("sonocode-layers", SCRATCH, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=16k,nr_inodes=16,mode=700") != 0) die("scratch tmpfs");
  if (mkdir(NEW_ROOT, 0755) != 0 || mkdir(SCRATCH "/e", 0755) != 0 || symlink("/", SCRATCH "/r") != 0) die("scratch dirs");
  if (chdir(SCRATCH) != 0) die("chdir scratch");
  /* Read-only overlay; a second (empty) layer because a lower-only overlay needs two. */
  if (mount("sonocode-root", "root", "overlay", MS_RDONLY | MS_NOSUID | MS_NODEV, "lowerdir=r:e") != 0) die("overlay");

  /* Every top-level mount the init can see moves along, in mount order (children move
   * with their parent). One covered by a later mount (Docker's cgroup mounts under our
   * /sys tmpfs) is not reachable by path, was never visible, and is detached below. */
  for (int i = 1; i < nmounts; i++) {
    if (mounts[i].parent != mounts[0].id) continue;
    int shadowed = 0;
    for (int j = i + 1; j < nmounts && !shadowed; j++)
      if (mounts[j].parent == mounts[0].id && covers(mounts[j].point, mounts[i].point)) shadowed = 1;
    if (shadowed) continue;
    char target[2048];
    snprintf(target, sizeof target, NEW_ROOT "%s", mounts[i].point);
    if (mount(mounts[i].point, target, NULL, MS_MOVE, NULL) != 0) {
      fprintf(stderr, "move %s: %s\n", mounts[i].point, strerror(errno));
      return 1;
    }
  }

  /* pivot_root(".", ".") stacks the old root on the new one; detaching it leaves ours. */
  if (chdir(NEW_ROOT) != 0 || syscall(SYS_pivot_root, ".", ".") != 0) die("pivot_root");
  if (umount2(".", MNT_DETACH) != 0) die("detach old root");
  if (chdir("/") != 0) die("chdir new root");
  return 0;
}
