// "Run code" mode: compile once, run every test (no early stop) and return what the
// program printed, each text cut to RUN_TEXT_CAP_BYTES and made storable. A test without
// an expected output is filled from the problem's reference solution, run first in a
// sandbox session of its own (its source never shares a work dir with the user's), or
// left with `expected: null`, where a clean exit is Success. Outputs are compared by the
// problem's checker exactly as when judging (openOutputChecker).
import { open } from "node:fs/promises";
import {
  RUN_TEXT_CAP_BYTES,
  storableText,
  type FinalStatus,
  type JudgeTest,
  type Language,
  type ParsedRunJudgeRequest,
  type RunJudgeTest,
  type RunReference,
  type RunTestResult,
  type RunVerdict,
} from "@sonocode/contracts";
import type { CheckPool } from "./check/check-pool.js";
import { compileSource } from "./compile.js";
import type { CustomCheckerHost } from "./custom-checker/custom-checker.js";
import { openOutputChecker, type OutputChecker } from "./custom-checker/output-checker.js";
import { programLimits } from "./judge-session.js";
import { languageSpec, type LanguageSpec } from "./languages.js";
import type { RunLimits, RunOutcome, RunStdin, SandboxSession } from "./sandbox/sandbox.js";
import { reportedMemoryKb, classifyRun, runStatus } from "./verdict.js";

export interface RunCall {
  signal?: AbortSignal;
}

/**
 * Bytes → storable text of at most RUN_TEXT_CAP_BYTES UTF-8 bytes (never a split sequence),
 * with a note when cut. `totalBytes` is the size of what `bytes` is the head of (a file read in part).
 */
export function capRunText(bytes: Uint8Array | string, totalBytes?: number): string {
  const buf = typeof bytes === "string" ? Buffer.from(bytes, "utf8") : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const total = Math.max(totalBytes ?? buf.length, buf.length);
  // Only the head a cap can keep is decoded; the storable form may be longer than its bytes (NUL is U+2400, 3 bytes).
  const text = storableText(buf.subarray(0, RUN_TEXT_CAP_BYTES));
  const encoded = Buffer.from(text, "utf8");
  if (total <= RUN_TEXT_CAP_BYTES && encoded.length <= RUN_TEXT_CAP_BYTES) return text;
  const note = `\n… (truncated, ${total} bytes in all)`;
  let end = Math.min(encoded.length, RUN_TEXT_CAP_BYTES - Buffer.byteLength(note));
  // Back up to the start of a UTF-8 sequence: the text is valid UTF-8, so the cut one is too.
  while (end > 0 && end < encoded.length && (encoded[end]! & 0xc0) === 0x80) end--;
  return encoded.subarray(0, end).toString("utf8") + note;
}

/** A host file shown capped: only its head is read, a test file is never read whole here. */
async function shownFile(path: string): Promise<string> {
  const handle = await open(path, "r");
  try {
    const buf = Buffer.alloc(RUN_TEXT_CAP_BYTES);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    const { size } = await handle.stat();
    return capRunText(buf.subarray(0, bytesRead), size);
  } finally {
    await handle.close();
  }
}

function stdinOf(test: RunJudgeTest): RunStdin {
  return "inputFile" in test ? { path: test.inputFile } : test.input;
}

interface Program {
  spec: LanguageSpec;
  argv: string[];
  env: Record<string, string> | undefined;
  limits: RunLimits;
}

type Compiled = { ok: true; program: Program; compileOutput: string | null } | { ok: false; compileOutput: string; message: string };

/** Writes and compiles one program in `session` (judge-session's compile step); the limits its tests run with. */
async function compileProgram(session: SandboxSession, language: Language, source: string, timeLimitMs: number, memoryLimitMb: number, call: RunCall): Promise<Compiled> {
  const spec = languageSpec(language);
  const env = spec.env ? { ...spec.env } : undefined;
  const compiled = await compileSource(session, spec, source, env, call.signal);
  if (!compiled.ok) return compiled;
  const limits = programLimits(spec, timeLimitMs, memoryLimitMb);
  return { ok: true, program: { spec, argv: [...spec.run({ memoryLimitMb })], env, limits }, compileOutput: compiled.compileOutput };
}

async function execute(session: SandboxSession, program: Program, stdin: RunStdin, call: RunCall): Promise<{ outcome: RunOutcome; status: ReturnType<typeof runStatus>; hit: ReturnType<typeof classifyRun> }> {
  call.signal?.throwIfAborted();
  // /box read-only, as when judging: one test cannot tamper with the artefact the next one runs.
  const outcome = await session.run({ argv: program.argv, stdin, limits: program.limits, env: program.env, writableWorkDir: false });
  call.signal?.throwIfAborted();
  const hit = classifyRun(outcome, program.limits);
  return { outcome, hit, status: runStatus(outcome, hit, program.spec) };
}

/** The reference solution's answers (null where it did not run cleanly), or why there are none. */
export interface ReferenceAnswers {
  answers: (string | null)[];
  /** Set when some answer is missing: shown to the run's owner (the reference's code and output never are). */
  note: string | null;
}

/**
 * Runs the reference solution on each input in its own session. What it printed becomes the
 * expected output; a reference that does not compile or does not finish cleanly leaves that
 * test without one (the input may be outside the problem's constraints), and says so.
 */
export async function referenceAnswers(session: SandboxSession, reference: RunReference, inputs: string[], call: RunCall): Promise<ReferenceAnswers> {
  const compiled = await compileProgram(session, reference.language, reference.source, reference.timeLimitMs, reference.memoryLimitMb, call);
  if (!compiled.ok) return { answers: inputs.map(() => null), note: "the problem's reference solution does not compile; no expected output is available" };
  const answers: (string | null)[] = [];
  let failed: string | null = null;
  for (const input of inputs) {
    const { outcome, status } = await execute(session, compiled.program, input, call);
    if (status === null) answers.push(outcome.stdout.toString("utf8"));
    else {
      answers.push(null);
      failed ??= status;
    }
  }
  return {
    answers,
    note: failed === null ? null : `the problem's reference solution ended with ${failed} on this input, so no expected output is available (is the input within the problem's constraints?)`,
  };
}

/** What test `index` is checked against: its answer file, its inline output, the reference's answer, or nothing. */
function answerOf(test: RunJudgeTest, reference: string | null | undefined): { path: string } | string | null {
  if ("inputFile" in test) return { path: test.outputFile };
  return test.output ?? reference ?? null;
}

/** The checker's view of a test with an answer (inline or files). */
function checkedTest(test: RunJudgeTest, answer: { path: string } | string): JudgeTest {
  if ("inputFile" in test) return { inputFile: test.inputFile, outputFile: typeof answer === "string" ? test.outputFile : answer.path, hidden: false };
  return { input: test.input, output: typeof answer === "string" ? answer : "", hidden: false };
}

/**
 * The user's program over every test of the request. `referenceAnswers[i]` is the expected
 * output of inline test i when the request gave none (see referenceAnswers()).
 */
export async function runInSession(
  session: SandboxSession,
  request: ParsedRunJudgeRequest,
  referenceAnswers: readonly (string | null)[],
  pool: CheckPool,
  call: RunCall,
  customCheckers?: CustomCheckerHost,
): Promise<RunVerdict> {
  const compiled = await compileProgram(session, request.language, request.source, request.timeLimitMs, request.memoryLimitMb, call);
  if (!compiled.ok) return { status: "CE", compileOutput: compiled.compileOutput, results: [], message: compiled.message };
  const { program, compileOutput } = compiled;

  let checker: OutputChecker | null = null;
  const answers = request.tests.map((test, index) => answerOf(test, referenceAnswers[index]));
  if (answers.some((answer) => answer !== null)) {
    const opened = await openOutputChecker(request.checker, pool, customCheckers);
    if ("kind" in opened) return { status: "IE", compileOutput, results: [], message: opened.message };
    checker = opened;
  }
  try {
    const results: RunTestResult[] = [];
    let status: FinalStatus = "Success";
    let message: string | null = null;
    for (const [index, test] of request.tests.entries()) {
      const answer = answers[index] ?? null;
      const { outcome, hit, status: ran } = await execute(session, program, stdinOf(test), call);
      // Kept before the output's memory may move to a checker worker.
      const output = capRunText(outcome.stdout);
      let testStatus = ran ?? "Success";
      let checkerMessage: string | undefined;
      if (ran === null && answer !== null && checker) {
        const checked = await checker.check(checkedTest(test, answer), index, outcome.stdout);
        call.signal?.throwIfAborted();
        if (checked.kind === "internalError") return { status: "IE", compileOutput, results, message: checked.message };
        testStatus = checked.status;
        checkerMessage = checked.extra.checkerMessage;
      }
      const shownExpected = answer === null ? null : typeof answer === "string" ? capRunText(answer) : await shownFile(answer.path);
      const shownInput = "inputFile" in test ? await shownFile(test.inputFile) : capRunText(test.input);
      results.push({
        index,
        input: shownInput,
        output,
        expected: shownExpected,
        status: testStatus,
        timeMs: Math.max(0, Math.round(outcome.cpuTimeMs)),
        memoryKb: reportedMemoryKb(outcome, hit),
        ...(checkerMessage === undefined ? {} : { checkerMessage }),
      });
      if (testStatus !== "Success" && status === "Success") {
        status = testStatus;
        message = testStatus === "RE" ? `Runtime error on test ${index + 1}: ${outcome.signal ? `killed by ${outcome.signal}` : `exit code ${outcome.exitCode ?? "unknown"}`}` : null;
      }
    }
    return { status, compileOutput, results, message };
  } finally {
    await checker?.dispose();
  }
}

/**
 * One run from start to end: the reference solution's session first when an inline test
 * has no expected output, then the user's own session. Each session is disposed before
 * the next opens (one judge slot holds one sandbox at a time); an abort kills the one open.
 */
export async function runProgram(
  openSession: () => Promise<SandboxSession>,
  request: ParsedRunJudgeRequest,
  pool: CheckPool,
  call: RunCall,
  customCheckers?: CustomCheckerHost,
): Promise<RunVerdict> {
  let current: SandboxSession | null = null;
  const onAbort = () => void current?.dispose();
  call.signal?.addEventListener("abort", onAbort, { once: true });
  const inSession = async <T>(work: (session: SandboxSession) => Promise<T>): Promise<T> => {
    call.signal?.throwIfAborted();
    current = await openSession();
    try {
      return await work(current);
    } finally {
      const session = current;
      current = null;
      await session.dispose();
    }
  };
  try {
    const unanswered = request.tests.flatMap((test, index) => ("inputFile" in test || test.output !== null ? [] : [index]));
    let answers: (string | null)[] = [];
    let note: string | null = null;
    if (request.reference && unanswered.length > 0) {
      const reference = request.reference;
      const inputs = unanswered.map((index) => (request.tests[index] as { input: string }).input);
      const found = await inSession((session) => referenceAnswers(session, reference, inputs, call));
      answers = request.tests.map(() => null);
      unanswered.forEach((testIndex, i) => (answers[testIndex] = found.answers[i] ?? null));
      note = found.note;
    }
    const verdict = await inSession((session) => runInSession(session, request, answers, pool, call, customCheckers));
    if (note === null) return verdict;
    return { ...verdict, message: verdict.message ? `${verdict.message}; ${note}` : note };
  } finally {
    call.signal?.removeEventListener("abort", onAbort);
  }
}
