/*
 * sonocode seccomp generator: compiles the judge's seccomp policy (one rule per line
 * on stdin, written by src/sandbox/seccomp/bpf.ts from src/sandbox/seccomp/policy.ts)
 * into the classic-BPF program the bwrap engine's run inits install on themselves before
 * they fork the program (native/supervisor.c), using libseccomp.
 * The same policy becomes the Docker engine's seccomp profile (docker-profile.ts), so
 * both engines enforce one rule set.
 *
 * Input, one rule per line (numbers in decimal; x86_64 syscall numbers, since
 * libseccomp 2.5 does not know the newest syscall names):
 *   <nr> <errno> [<arg> eq|ge <value> | <arg> masked_eq <mask> <value>]...
 * Default action: allow. Any architecture but x86_64 (i386 int 0x80, and the x32 ABI,
 * which libseccomp's x86_64 filter treats as a foreign one) kills the process.
 * It runs on the host at engine start, as root, on our own policy only.
 *
 * usage: seccomp-gen <out-file> < rules
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_CMP 6

static int fail(const char *what, int line, int err) {
  fprintf(stderr, "seccomp-gen: %s (line %d): %s\n", what, line, strerror(err < 0 ? -err : err));
  return 1;
}

static int parse_u64(const char *s, scmp_datum_t *out) {
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || !end || *end || *s == '-') return -1;
  *out = (scmp_datum_t)v;
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx) return fail("seccomp_init", 0, ENOMEM);
  int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  if (rc) return fail("bad-arch action", 0, rc);

  char buf[512];
  int line = 0;
  while (fgets(buf, sizeof buf, stdin)) {
    line++;
    char *tok[3 + 4 * MAX_CMP];
    int n = 0;
    for (char *save = NULL, *t = strtok_r(buf, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
      if (n == (int)(sizeof tok / sizeof tok[0])) return fail("too many fields", line, E2BIG);
      tok[n++] = t;
    }
    if (n == 0) continue;
    scmp_datum_t nr, err;
    if (n < 2 || parse_u64(tok[0], &nr) || parse_u64(tok[1], &err) || err == 0 || err > 4095) return fail("bad rule", line, EINVAL);
    struct scmp_arg_cmp cmp[MAX_CMP];
    int ncmp = 0;
    for (int i = 2; i < n;) {
      scmp_datum_t arg, a, b = 0;
      if (ncmp == MAX_CMP || i + 2 >= n || parse_u64(tok[i], &arg) || arg > 5) return fail("bad comparison", line, EINVAL);
      const char *op = tok[i + 1];
      if (parse_u64(tok[i + 2], &a)) return fail("bad value", line, EINVAL);
      if (strcmp(op, "eq") == 0) {
        cmp[ncmp++] = (struct scmp_arg_cmp){(unsigned)arg, SCMP_CMP_EQ, a, 0};
        i += 3;
      } else if (strcmp(op, "ge") == 0) {
        cmp[ncmp++] = (struct scmp_arg_cmp){(unsigned)arg, SCMP_CMP_GE, a, 0};
        i += 3;
      } else if (strcmp(op, "masked_eq") == 0) {
        if (i + 3 >= n || parse_u64(tok[i + 3], &b)) return fail("bad masked value", line, EINVAL);
        /* libseccomp: datum_a is the mask, datum_b the value. */
        cmp[ncmp++] = (struct scmp_arg_cmp){(unsigned)arg, SCMP_CMP_MASKED_EQ, a, b};
        i += 4;
      } else {
        return fail("unknown operator", line, EINVAL);
      }
    }
    /* _exact: fail rather than let libseccomp rewrite a rule it cannot express as given. */
    rc = seccomp_rule_add_exact_array(ctx, SCMP_ACT_ERRNO((unsigned)err), (int)nr, (unsigned)ncmp, cmp);
    if (rc) return fail("seccomp_rule_add", line, rc);
  }
  if (ferror(stdin)) return fail("reading rules", line, EIO);

  int fd = open(argv[1], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return fail("open output", 0, errno);
  rc = seccomp_export_bpf(ctx, fd);
  if (rc) return fail("seccomp_export_bpf", 0, rc);
  if (close(fd) != 0) return fail("close output", 0, errno);
  seccomp_release(ctx);
  return 0;
}
