// Size of one final user-events stream entry (the payload JSON a socket-service reads and pushes)
// for a submission at the code cap, and for a run whose texts (each test's input, output and
// expected, the compiler output) are at RUN_TEXT_CAP_BYTES:
// `npx tsx services/submission-service/bench/user-event-size.ts [tests]`.
import { DEFAULT_MAX_CODE_BYTES, RUN_TEXT_CAP_BYTES, type Run, type Submission } from "@sonocode/contracts";
import { finalEventPayload } from "../src/notifications/submission.notifier.js";
import { runResultEventPayload } from "../src/notifications/run.notifier.js";

const tests = Number(process.argv[2] ?? 50);
const now = new Date().toISOString();
/** Code at the byte cap, three ways: plain ASCII, C++-like (newlines, quotes, tabs: escaped in JSON), control bytes (6 bytes each in JSON). */
const line = '\tprintf("%d\\n", a[i] + b[i]); // "sum"\n';
const codes = {
  ascii: "x".repeat(DEFAULT_MAX_CODE_BYTES),
  cpp: line.repeat(Math.ceil(DEFAULT_MAX_CODE_BYTES / line.length)).slice(0, DEFAULT_MAX_CODE_BYTES),
  control: "\u0001".repeat(DEFAULT_MAX_CODE_BYTES),
};
const base: Submission = {
  _id: "6b0fb84e628954100bdcfb01",
  userId: "user-1234",
  problemId: "6b0fb84e628954100bdcfbe7",
  language: "CPP",
  code: "",
  status: "WA",
  passed: tests - 1,
  total: tests,
  timeMs: 120,
  memoryKb: 20_000,
  results: Array.from({ length: tests }, (_, index) => ({ index, status: index === tests - 1 ? "WA" : "Success", timeMs: 12, wallTimeMs: 14, memoryKb: 20_000 })),
  compileOutput: null,
  failedTest: { index: tests - 1, input: "1 2\n", expected: "3\n", actual: "4\n" },
  message: null,
  score: 98,
  createdAt: now,
  updatedAt: now,
};
for (const [style, code] of Object.entries(codes)) {
  const submission = { ...base, code };
  const whole = Buffer.byteLength(JSON.stringify(submission));
  const sent = Buffer.byteLength(JSON.stringify(finalEventPayload(submission)));
  console.log(JSON.stringify({ tests, code: style, codeBytes: Buffer.byteLength(code), wholeSubmissionBytes: whole, finalEventBytes: sent }));
}

/** A run on `tests` visible tests: every text at the cap, plain ASCII or control bytes (6 bytes each in JSON). */
const texts = { ascii: "x".repeat(RUN_TEXT_CAP_BYTES), control: "\u0001".repeat(RUN_TEXT_CAP_BYTES) };
for (const [style, text] of Object.entries(texts)) {
  const run: Run = {
    _id: "6b0fb84e628954100bdcfb02",
    userId: "user-1234",
    problemId: "6b0fb84e628954100bdcfbe7",
    language: "CPP",
    status: "WA",
    compileOutput: text,
    results: Array.from({ length: tests }, (_, index) => ({
      index,
      input: text,
      output: text,
      expected: text,
      status: index === tests - 1 ? ("WA" as const) : ("Success" as const),
      timeMs: 12,
      memoryKb: 20_000,
      ...(index === tests - 1 ? { checkerMessage: "wrong answer 1st numbers differ - expected: '3', found: '4'" } : {}),
    })),
    message: null,
    deadlineAt: now,
    expiresAt: now,
    createdAt: now,
    updatedAt: now,
  };
  const whole = Buffer.byteLength(JSON.stringify(run));
  const sent = Buffer.byteLength(JSON.stringify(runResultEventPayload(run)));
  console.log(JSON.stringify({ tests, run: style, textBytes: Buffer.byteLength(text), wholeRunBytes: whole, runResultEventBytes: sent }));
}
