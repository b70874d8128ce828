/*
 * The session's work dir (/box), for both configs (session-view.c, userns-view.c): a
 * size-capped tmpfs, mode 0700, owned by the program's uid, mounted in the supervisor's
 * private mount namespace only. Nothing of it shows on the host, so the judge neither
 * spawns a mount nor an umount per session, and a supervisor that ends (however: exit,
 * SIGKILL, the judge's death) takes it along. The judge writes the session's files with
 * "put", through the descriptor kept here, never through anything the sandbox planted.
 */
#include "supervisor.h"

/* The session's /box, for put_file(). */
static int box_fd = -1;

void mount_box(const char *root, unsigned long long box_bytes) {
  char at[VIEW_PATH], opts[96];
  snprintf(at, sizeof at, "%s/box", root);
  snprintf(opts, sizeof opts, "size=%llu,mode=700,uid=%u,gid=%u", box_bytes, (unsigned)prog_uid, (unsigned)prog_gid);
  if (mount("sonocode-box", at, "tmpfs", MS_NOSUID | MS_NODEV, opts) != 0) fatal("box");
  box_fd = open(at, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (box_fd < 0) fatal("box");
}

/* put <seq> <name> <bytes>: a file of the judge's into /box (O_EXCL, O_NOFOLLOW, a plain name). -> "<seq> put <errno>" */
void put_file(struct fields *f) {
  const char *seq = next_field(f), *name = next_field(f);
  if (!seq || strlen(seq) > 32 || !name) fatal("protocol");
  int err = 0;
  if (box_fd < 0) err = EOPNOTSUPP;
  else if (!*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) err = EINVAL;
  else {
    int fd = openat(box_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) err = errno;
    else {
      /* Readable by the program's uid whatever the umask (the supervisor sets 022 too). */
      if (fchmod(fd, 0644) != 0) err = errno;
      if (!err && write_all(fd, f->buf + f->at, f->len - f->at) != 0) err = errno ? errno : EIO;
      if (close(fd) != 0 && !err) err = errno;
    }
  }
  status_line("%s put %d", seq, err);
}
