// How a custom checker is called and what its exit means, for both protocols. Pure:
// the facts of one checker run in, a decision out (the judge core decides, as for programs).
import { CHECKER_LIMITS, storableText, type CheckerFailureReason, type CheckerProtocol } from "@sonocode/contracts";
import { classifyRun } from "../verdict.js";
import type { RunLimits, RunOutcome } from "../sandbox/sandbox.js";

/** A checker run gets its own limits, whatever the problem's: 10 s CPU, 256 MiB. */
export const CHECKER_RUN_LIMITS: RunLimits = {
  cpuTimeMs: CHECKER_LIMITS.timeLimitMs,
  wallTimeMs: CHECKER_LIMITS.timeLimitMs * 2,
  memoryBytes: CHECKER_LIMITS.memoryLimitMb * 1024 * 1024,
  // stdout (a score) and stderr (the message) only: a checker printing megabytes has failed.
  outputBytes: 1024 * 1024,
  processes: 16,
  // input, answer and the program's output (64 MiB at most) land in the run's /tmp.
  fileSizeBytes: 80 * 1024 * 1024,
};

/** The wrapper's own failure (a file could not be written): never read as a checker's verdict. */
export const WRAPPER_FAILED_EXIT = 120;

/**
 * The run's stdin is the test's input, then its answer, then the program's output, back to
 * back; the wrapper (dash, from the runtime rootfs) splits them with `head -c` (which reads
 * exactly that many bytes from a pipe) into the run's fresh /tmp and calls the checker:
 *   testlib: checker /tmp/input /tmp/output /tmp/answer
 *   kattis:  validator /tmp/input /tmp/answer /tmp/feedback/ < output (the rest of stdin);
 *            its judgemessage.txt is then copied to stderr, where checkerMessage comes from.
 */
const WRAPPERS: Record<CheckerProtocol, string> = {
  testlib: [
    `{ head -c "$1" > /tmp/input && head -c "$2" > /tmp/answer && cat > /tmp/output; } || exit ${WRAPPER_FAILED_EXIT}`,
    "shift 2",
    'exec "$@" /tmp/input /tmp/output /tmp/answer',
  ].join("\n"),
  kattis: [
    `{ head -c "$1" > /tmp/input && head -c "$2" > /tmp/answer && mkdir /tmp/feedback; } || exit ${WRAPPER_FAILED_EXIT}`,
    "shift 2",
    '"$@" /tmp/input /tmp/answer /tmp/feedback/',
    "code=$?",
    "cat /tmp/feedback/judgemessage.txt >&2 2>/dev/null",
    'exit "$code"',
  ].join("\n"),
};

export function checkerArgv(protocol: CheckerProtocol, inputBytes: number, answerBytes: number, checker: readonly string[]): string[] {
  return ["/bin/sh", "-c", WRAPPERS[protocol], "checker-wrapper", String(inputBytes), String(answerBytes), ...checker];
}

export type CheckerDecision =
  /** score: the partial credit of an exit 7 (testlib), null for a plain accept or reject. */
  | { kind: "verdict"; status: "Success" | "WA"; score: number | null; message: string | null }
  /** The checker could not judge (its own failure, exit 3, a limit): IE for the submission, flagged for admins. */
  | { kind: "failure"; reason: string; code: CheckerFailureReason };

/** The checker's stderr as checkerMessage: storable, capped, null when empty. */
function message(outcome: RunOutcome): string | null {
  const text = storableText(outcome.stderr, { maxCodePoints: CHECKER_LIMITS.messageChars, truncatedNote: () => "\n… (checker message truncated)" }).trim();
  return text.length > 0 ? text : null;
}

/** The first whitespace-separated token of stdout as a score in [0, 1], or null. */
export function partialScore(stdout: Buffer): number | null {
  const token = /^\s*(\S{1,64})/.exec(stdout.subarray(0, 256).toString("latin1"))?.[1];
  if (token === undefined || !/^[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(token)) return null;
  const score = Number(token);
  return score >= 0 && score <= 1 ? score : null;
}

/** limits: what the run had (an interactor's wall time is its pair's). */
export function decide(protocol: CheckerProtocol, outcome: RunOutcome, limits: RunLimits = CHECKER_RUN_LIMITS): CheckerDecision {
  const hit = classifyRun(outcome, limits);
  if (hit !== null) return { kind: "failure", reason: `the checker exceeded its ${hit === "wall" ? "wall time" : hit} limit`, code: "limit" };
  if (outcome.signal !== null) return { kind: "failure", reason: `the checker was killed by ${outcome.signal}`, code: "signal" };
  const code = outcome.exitCode;
  if (code === WRAPPER_FAILED_EXIT) return { kind: "failure", reason: "the checker's files could not be written (the output may be too large for its /tmp)", code: "io" };
  if (protocol === "kattis") {
    if (code === 42) return { kind: "verdict", status: "Success", score: null, message: message(outcome) };
    if (code === 43) return { kind: "verdict", status: "WA", score: null, message: message(outcome) };
    return { kind: "failure", reason: `the validator exited with ${code} (42 accepts, 43 rejects)`, code: "exit" };
  }
  switch (code) {
    case 0:
      return { kind: "verdict", status: "Success", score: null, message: message(outcome) };
    case 1:
    case 2: // presentation error: a wrong answer here
      return { kind: "verdict", status: "WA", score: null, message: message(outcome) };
    case 7: {
      const score = partialScore(outcome.stdout);
      if (score === null) return { kind: "failure", reason: "the checker gave partial credit (exit 7) without a score in [0, 1] first on its stdout", code: "score" };
      return { kind: "verdict", status: score === 1 ? "Success" : "WA", score, message: message(outcome) };
    }
    case 3:
      return { kind: "failure", reason: "the checker reported its own failure (exit 3)", code: "failed" };
    default:
      return { kind: "failure", reason: `the checker exited with ${code} (testlib: 0, 1, 2, 3 or 7)`, code: "exit" };
  }
}
