/*
 * A paired run's program -> helper stream (runs.c's pair_command() sets it up): the
 * supervisor relays it from one pipe to the other, rather than handing the program the
 * helper's stdin, so that the program's output is counted like a plain run's.
 */
#include "supervisor.h"

void end_cross(struct crossing *c) {
  if (c->from >= 0) close(c->from);
  if (c->to >= 0) close(c->to);
  c->from = c->to = -1;
  c->blocked = 0;
}

/*
 * Moves what the program wrote towards the helper, as it arrives (no batching: interactive
 * runs exchange many small messages, and each is passed on the moment it is readable), and
 * counts it. splice() moves the pipe's pages from one pipe to the other without a copy. When
 * the helper's pipe is full we stop reading (the program then blocks on its own full pipe, as
 * it did when both ends were one pipe) until it has room. The program's EOF becomes the
 * helper's; a helper that closed its stdin (or is gone) makes us close the program's pipe, so
 * the program's writes fail with EPIPE as before. One byte past the program's output limit
 * ends the pair: the engine's output watchdog, here because only we see those bytes.
 */
void cross(struct crossing *c, pid_t program_init, pid_t helper_init) {
  /* At most one byte past the limit: enough to know it was passed. */
  unsigned long long left = c->limit - c->crossed;
  size_t len = left < (1u << 20) ? (size_t)left + 1 : (1u << 20);
  ssize_t n;
  do n = splice(c->from, NULL, c->to, NULL, len, SPLICE_F_NONBLOCK); while (n < 0 && errno == EINTR);
  if (n > 0) {
    c->blocked = 0;
    c->crossed += (unsigned long long)n;
    if (c->crossed > c->limit) {
      if (program_init > 0) kill(program_init, SIGKILL);
      if (helper_init > 0) kill(helper_init, SIGKILL);
      end_cross(c);
    }
    return;
  }
  if (n < 0 && errno == EAGAIN) {
    /* Nothing to read (a spurious wakeup), or no room in the helper's pipe: then wait for room. */
    int queued = 0;
    c->blocked = ioctl(c->from, FIONREAD, &queued) == 0 && queued > 0;
    return;
  }
  /* EOF from the program, EPIPE from the helper, or any other failure: the stream is over. */
  end_cross(c);
}
