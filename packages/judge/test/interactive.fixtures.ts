// An interactive guessing game for the interactive-problem tests: the test's input is the
// secret (1..100), the program guesses, the interactor answers "<", ">" or "=" and allows
// 10 guesses. One interactor in C (testlib protocol) and one in Python (kattis protocol);
// the programs are Python: right (binary search), wrong (counts up), one that quits at
// once, one that sits idle, one that crashes, one that burns CPU, and one that looks for
// the interactor from inside.
import type { Interactor } from "@sonocode/contracts";
import type { PairedRunOutcome, RunLimits, SandboxSession } from "../src/index.js";

// Input "0" is a broken test: the interactor fails on it (abort: SIGABRT), which is IE.
const TESTLIB_C = `#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "verdicts.h"
int main(int argc, char **argv) {
  if (argc != 3) return FAIL;
  FILE *in = fopen(argv[1], "r"), *out = fopen(argv[2], "w");
  int secret;
  if (!in || !out || fscanf(in, "%d", &secret) != 1) return FAIL;
  if (secret == 0) abort();
  setvbuf(stdout, NULL, _IONBF, 0);
  for (int asked = 1; asked <= 10; asked++) {
    int guess;
    if (scanf("%d", &guess) != 1) { fprintf(stderr, "no guess %d (eof or garbage)", asked); return WA; }
    if (guess == secret) {
      printf("=\\n");
      fprintf(out, "%d\\n", asked);
      fprintf(stderr, "found in %d guesses as uid %d", asked, (int)getuid());
      return AC;
    }
    printf(guess < secret ? "<\\n" : ">\\n");
  }
  fprintf(stderr, "too many guesses");
  return WA;
}
`;
const VERDICTS_H = "enum { AC = 0, WA = 1, PE = 2, FAIL = 3 };\n";

export const testlibInteractor: Interactor = { protocol: "testlib", language: "C", source: TESTLIB_C, files: [{ name: "verdicts.h", content: VERDICTS_H }] };

// The same game, Kattis-style: the secret in the input file, verdicts 42/43, feedback in judgemessage.txt.
const KATTIS_PY = `import sys
secret = int(open(sys.argv[1]).read())
if secret == 0:
    raise RuntimeError("broken test")  # exit 1: neither 42 nor 43, the validator's own failure
feedback = open(sys.argv[3] + "judgemessage.txt", "w")
for asked in range(1, 11):
    line = sys.stdin.readline()
    try:
        guess = int(line)
    except ValueError:
        feedback.write("guess %d is not a number: %r" % (asked, line[:20]))
        sys.exit(43)
    if guess == secret:
        print("=", flush=True)
        feedback.write("found in %d guesses" % asked)
        sys.exit(42)
    print("<" if guess < secret else ">", flush=True)
feedback.write("too many guesses")
sys.exit(43)
`;

export const kattisInteractor: Interactor = { protocol: "kattis", language: "PYTHON", source: KATTIS_PY };

export const PROGRAMS = {
  right: `lo, hi = 1, 100
while True:
    mid = (lo + hi) // 2
    print(mid, flush=True)
    reply = input().strip()
    if reply == "=":
        break
    if reply == "<":
        lo = mid + 1
    else:
        hi = mid - 1
`,
  // Counts up from 1: right only for secrets up to 10.
  wrong: `for guess in range(1, 101):
    print(guess, flush=True)
    if input().strip() == "=":
        break
`,
  quits: `print("hello", flush=True)
`,
  idle: `import time
time.sleep(60)
`,
  crashes: `import os, signal
print(50, flush=True)
input()
os.kill(os.getpid(), signal.SIGSEGV)
`,
  spins: `while True:
    pass
`,
  // Allocates far beyond its 64 MiB after the first exchange (touching every page).
  hogs: `print(50, flush=True)
input()
hog = b"x" * (512 * 1024 * 1024)
`,
  // Plays right only if nothing of the interactor is in reach: no other process, nothing in /tmp, /box its own.
  looks: `import os
others = [p for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, os.getpid())]
seen = os.listdir("/tmp") + [f for f in os.listdir("/box") if f != "main.py"]
if others or seen:
    raise SystemExit(0)
lo, hi = 1, 100
while True:
    mid = (lo + hi) // 2
    print(mid, flush=True)
    reply = input().strip()
    if reply == "=":
        break
    lo, hi = (mid + 1, hi) if reply == "<" else (lo, mid - 1)
`,
} as const;

// A line-reading game: the input is a number of rounds; each round the interactor sends i and
// reads one line with getline(3) (a buffer that grows with the line) that must be 2i. A
// program that floods it with digits and never a newline makes that one line grow without
// end: the program's fault (OLE once it has written more than its output limit), never the
// interactor's (before the engines counted those bytes, the interactor hit its own 256 MiB
// and the submission got IE).
const LINES_C = `#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  if (argc != 3) return 3;
  FILE *in = fopen(argv[1], "r"), *out = fopen(argv[2], "w");
  long rounds;
  if (!in || !out || fscanf(in, "%ld", &rounds) != 1) return 3;
  char *line = NULL;
  size_t cap = 0;
  for (long i = 1; i <= rounds; i++) {
    printf("%ld\\n", i);
    fflush(stdout);
    if (getline(&line, &cap, stdin) < 0) { fprintf(stderr, "no answer in round %ld", i); return 1; }
    if (strtol(line, NULL, 10) != 2 * i) { fprintf(stderr, "wrong answer in round %ld", i); return 1; }
  }
  fprintf(stderr, "%ld rounds", rounds);
  return 0;
}
`;

export const linesInteractor: Interactor = { protocol: "testlib", language: "C", source: LINES_C };

/** Programs for linesInteractor, with their language. */
export const LINE_PROGRAMS = {
  // Answers every round (and ends at the EOF the interactor's end gives it).
  doubles: {
    language: "PYTHON",
    source: `import sys
for line in sys.stdin:
    print(2 * int(line), flush=True)
`,
  },
  // The same in C: the ping-pong benchmark's program (bench/interactive.bench.ts).
  doublesC: {
    language: "C",
    source: `#include <stdio.h>
int main(void) {
  long i;
  while (scanf("%ld", &i) == 1) { printf("%ld\\n", 2 * i); fflush(stdout); }
  return 0;
}
`,
  },
  // Digits for ever, never a newline.
  floods: {
    language: "C",
    source: `#include <stdio.h>
int main(void) {
  for (;;) putchar('7');
}
`,
  },
  // The same from Python, in big writes.
  floodsPython: {
    language: "PYTHON",
    source: `import sys
chunk = "7" * 65536
while True:
    sys.stdout.write(chunk)
`,
  },
} as const;

// The other way round: an interactor that sends the program 1.2 MB (600,000 lines "1", then
// "0") and expects the count back. The interactor's output towards the program is not the
// program's and is not capped by the interactor's own 1 MiB report limit (Docker used to
// count it there: IE).
const BULK_C = `#include <stdio.h>
int main(int argc, char **argv) {
  if (argc != 3) return 3;
  FILE *out = fopen(argv[2], "w");
  if (!out) return 3;
  for (int i = 0; i < 600000; i++) fputs("1\\n", stdout);
  fputs("0\\n", stdout);
  fflush(stdout);
  long n;
  if (scanf("%ld", &n) != 1) { fprintf(stderr, "no count"); return 1; }
  if (n != 600000) { fprintf(stderr, "count %ld", n); return 1; }
  fprintf(stderr, "counted");
  return 0;
}
`;

export const bulkInteractor: Interactor = { protocol: "testlib", language: "C", source: BULK_C };

/** Counts the numbers before the 0 (bulkInteractor's program). */
export const BULK_COUNTER_C = `#include <stdio.h>
int main(void) {
  long x, n = 0;
  while (scanf("%ld", &x) == 1 && x != 0) n++;
  printf("%ld\\n", n);
  return 0;
}
`;

/**
 * A program that writes 4 MB before it reads anything: against bulkInteractor (which sends
 * 1.2 MB before it reads) both sides block on full pipes, and the pair ends at its wall limit.
 */
export const WRITES_BEFORE_READING_PY = `import sys, time
sys.stdout.write("1\\n" * 2000000)
sys.stdout.flush()
time.sleep(60)
`;

/** Limits of the engine-level pairs below: 1 MiB of output. */
export const PAIR_LIMITS: RunLimits = { cpuTimeMs: 5_000, wallTimeMs: 10_000, memoryBytes: 64 << 20, outputBytes: 1 << 20, processes: 16, fileSizeBytes: 1 << 20 };

/**
 * Two paired runs straight on an engine's session, for the facts it reports about the
 * program's stdout towards the helper (a helper that reads and drops everything): a program
 * writing for ever (`yes`), and one writing 5 bytes.
 */
export async function towardsHelperFacts(session: SandboxSession): Promise<{ flood: PairedRunOutcome; small: PairedRunOutcome }> {
  if (!session.runPair) throw new Error("this session has no paired runs");
  const helper = { argv: ["/bin/sh", "-c", "cat > /dev/null"], input: new Uint8Array(0), limits: PAIR_LIMITS, writableWorkDir: false };
  const flood = await session.runPair({ program: { argv: ["/usr/bin/yes", "7777777"], limits: PAIR_LIMITS, writableWorkDir: false }, helper });
  const small = await session.runPair({ program: { argv: ["/bin/sh", "-c", "printf 12345"], limits: PAIR_LIMITS, writableWorkDir: false }, helper });
  return { flood, small };
}
