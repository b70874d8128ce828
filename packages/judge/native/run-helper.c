/*
 * sonocode container init: pid 1 of every Docker-engine container (`run --init`).
 *
 * It reaps every orphan, forever, and does nothing else: the container's only baseline
 * process, under a uid of its own, non-dumpable first thing, so user code (another uid)
 * can neither signal, ptrace nor read it. Docker's own init (docker-init / tini) would
 * show a host path in /proc/1/cmdline and mountinfo; this one is bound from our own
 * tmpfs. Built once on the host (static, so it runs whatever libc the image has) by
 * src/sandbox/native-helpers.ts; it never reads user data.
 *
 * (The bwrap engine's runs are supervised by native/supervisor.c.)
 *
 * usage: run --init
 */
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  /* Before anything else: nothing in the container may read or write this process. */
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) _exit(119);
  if (argc != 2 || strcmp(argv[1], "--init") != 0) _exit(122);
  /* Wait for SIGCHLD (blocked, so no handler is needed) and reap. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) _exit(118);
  for (;;) {
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
    siginfo_t info;
    (void)sigwaitinfo(&set, &info);
  }
}
