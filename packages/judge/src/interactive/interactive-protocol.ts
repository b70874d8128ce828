// How an interactor is called and what a paired run means, for both protocols. Pure: the
// facts of both sides in, a test status (or the interactor's failure) out.
//
// The interactor's side of a paired run (sandbox.ts PairedRunSpec) runs a small `sh`
// wrapper (dash, from the runtime rootfs) in the helper's own fresh /tmp. Its fd 3 holds,
// back to back, the test's input, its answer and the interactor's files; the wrapper
// splits them with `head -c` (which reads exactly that many bytes) and then calls
//   testlib: interactor /tmp/input /tmp/output
//   kattis:  validator /tmp/input /tmp/answer /tmp/feedback/
// with stdin/stdout crossed with the program's and SIGPIPE ignored (a program that quits
// early makes the interactor's writes fail with EPIPE, never kills it: it then reads EOF
// and rejects). The interactor's stderr goes to a file; once it has exited, the wrapper
// closes the program's pipes and reports on its own stderr (the engine relays it): one
// line with the score token (testlib: the first line of <output>, for exit 7), then the
// message (testlib: the interactor's stderr; kattis: judgemessage.txt, then its stderr).
import { CHECKER_LIMITS, type CheckerProtocol, type TestResult, type TestStatus } from "@sonocode/contracts";
import type { LanguageSpec } from "../languages.js";
import type { LimitHit, RunLimits, RunOutcome } from "../sandbox/sandbox.js";
import { decide, WRAPPER_FAILED_EXIT } from "../custom-checker/protocols.js";
import { fromShellStatus } from "../sandbox/signals.js";
import { classifyRun, exitedCleanly, ranOutOfMemory, runStatus } from "../verdict.js";

/** The interactor's own limits, whatever the problem's (as a checker's): 10 s CPU, 256 MiB. Its wall time is the pair's. */
export function interactorLimits(pairWallMs: number): RunLimits {
  return {
    cpuTimeMs: CHECKER_LIMITS.timeLimitMs,
    wallTimeMs: pairWallMs,
    memoryBytes: CHECKER_LIMITS.memoryLimitMb * 1024 * 1024,
    // Its report only (score line and message): the program's stdin is not captured.
    outputBytes: 1024 * 1024,
    processes: 16,
    // Input, answer, its own files and its <output> land in its /tmp.
    fileSizeBytes: 80 * 1024 * 1024,
  };
}

const MESSAGE_BYTES = 64 * 1024;

const WRAPPERS: Record<CheckerProtocol, string> = {
  testlib: [
    `{ head -c "$1" <&3 > /tmp/input && head -c "$2" <&3 > /tmp/answer; } || exit ${WRAPPER_FAILED_EXIT}`,
    "n=$3; shift 3",
    // Each file: <name> <bytes> <mode>, then the argv.
    `while [ "$n" -gt 0 ]; do head -c "$2" <&3 > "/tmp/$1" && chmod "$3" "/tmp/$1" || exit ${WRAPPER_FAILED_EXIT}; shift 3; n=$((n - 1)); done`,
    "exec 3<&-",
    "trap '' PIPE",
    '"$@" /tmp/input /tmp/output 2>/tmp/.message',
    "code=$?",
    "exec 0<&- 1>/dev/null",
    `{ head -n 1 /tmp/output 2>/dev/null | head -c 64; echo; head -c ${MESSAGE_BYTES} /tmp/.message; } >&2`,
    'exit "$code"',
  ].join("\n"),
  kattis: [
    `{ head -c "$1" <&3 > /tmp/input && head -c "$2" <&3 > /tmp/answer && mkdir /tmp/feedback; } || exit ${WRAPPER_FAILED_EXIT}`,
    "n=$3; shift 3",
    `while [ "$n" -gt 0 ]; do head -c "$2" <&3 > "/tmp/$1" && chmod "$3" "/tmp/$1" || exit ${WRAPPER_FAILED_EXIT}; shift 3; n=$((n - 1)); done`,
    "exec 3<&-",
    "trap '' PIPE",
    '"$@" /tmp/input /tmp/answer /tmp/feedback/ 2>/tmp/.message',
    "code=$?",
    "exec 0<&- 1>/dev/null",
    `{ echo; head -c ${MESSAGE_BYTES} /tmp/feedback/judgemessage.txt 2>/dev/null; head -c ${MESSAGE_BYTES} /tmp/.message; } >&2`,
    'exit "$code"',
  ].join("\n"),
};

export interface InteractorFile {
  name: string;
  bytes: number;
  executable: boolean;
}

/** The helper's argv: the wrapper, the sizes of what fd 3 holds, then the interactor's own argv. */
export function interactorArgv(protocol: CheckerProtocol, inputBytes: number, answerBytes: number, files: readonly InteractorFile[], interactor: readonly string[]): string[] {
  const described = files.flatMap((file) => [file.name, String(file.bytes), file.executable ? "500" : "400"]);
  return ["/bin/sh", "-c", WRAPPERS[protocol], "interactor-wrapper", String(inputBytes), String(answerBytes), String(files.length), ...described, ...interactor];
}

/**
 * The wrapper's report (the helper's relayed stderr) as the checker protocol reads it: the
 * score line as stdout, the rest as stderr; and the interactor's status as the wrapper saw it
 * (a shell's 128+N is "killed by signal N").
 */
export function reportAsCheckerOutput(helper: RunOutcome): RunOutcome {
  const report = helper.stderr;
  const nl = report.indexOf(0x0a);
  const stdout = nl >= 0 ? report.subarray(0, nl) : Buffer.alloc(0);
  const stderr = nl >= 0 ? report.subarray(nl + 1) : report;
  const status = helper.exitCode === null ? { exitCode: null, signal: helper.signal } : fromShellStatus(helper.exitCode);
  return { ...helper, ...status, stdout, stderr, stdoutBytes: stdout.length, stderrBytes: stderr.length };
}

export type InteractiveDecision =
  | { kind: "status"; status: TestStatus; hit: LimitHit; extra: Pick<TestResult, "score" | "checkerMessage"> }
  /** The interactor could not judge: IE for the submission, never the program's fault. */
  | { kind: "failure"; reason: string };

/**
 * One test's status from both sides' facts, in this order:
 * 1. the program hit a limit (memory, output, CPU, wall: a pair that made no progress): that verdict;
 * 2. the interactor failed (its own limits, a signal, an unknown exit code, exit 3): IE;
 * 3. the program crashed (a signal other than SIGPIPE) or its runtime ran out of memory: RE / MLE,
 *    whatever the interactor made of the silence that followed;
 * 4. the interactor rejected: WA, whatever the program did after (it may have quit early, exited
 *    with an error, or died of SIGPIPE writing to an interactor that had already decided);
 * 5. it accepted, and the program then failed: RE;
 * 6. it accepted and the program exited cleanly: Success (or WA below a full partial score).
 */
export function decideInteractive(protocol: CheckerProtocol, program: RunOutcome, programLimits: RunLimits, helper: RunOutcome, helperLimits: RunLimits, language: Pick<LanguageSpec, "outOfMemory">): InteractiveDecision {
  const hit = classifyRun(program, programLimits);
  if (hit !== null) return { kind: "status", status: runStatus(program, hit, language) ?? "RE", hit, extra: {} };
  const decision = decide(protocol, reportAsCheckerOutput(helper), helperLimits);
  if (decision.kind === "failure") return { kind: "failure", reason: decision.reason.replace(/\b(checker|validator)\b/g, "interactor") };
  const extra: Pick<TestResult, "score" | "checkerMessage"> = {};
  if (decision.score !== null) extra.score = decision.score;
  if (decision.message !== null) extra.checkerMessage = decision.message;
  const crashed = (program.signal !== null && program.signal !== "SIGPIPE") || ranOutOfMemory(program, language);
  if (crashed) return { kind: "status", status: runStatus(program, null, language) ?? "RE", hit: null, extra };
  if (decision.status === "WA") return { kind: "status", status: "WA", hit: null, extra };
  if (!exitedCleanly(program)) return { kind: "status", status: runStatus(program, null, language) ?? "RE", hit: null, extra };
  return { kind: "status", status: "Success", hit: null, extra };
}
