// `--breakdown`: where one submission's POST → final event went, stage by stage, from the
// client's own clock and the platform's info log lines (the evaluator's "judged" line and the
// results consumer's "submission finalized" line carry a `stages` object and epoch stamps;
// numbers only, never code or test data). Every process runs on this machine, so epoch
// milliseconds from Date.now() in each line the same clock; the medians of a few
// submissions are good to about a millisecond.
import type { Language } from "@sonocode/contracts";
import { fmtMs, markdownTable, median } from "./report.js";

/** What the benchmark's client knows of one submission (epoch ms). */
export interface ClientTimes {
  submissionId: string;
  sentAt: number;
  acceptedAt: number;
  finalAt: number;
}

export interface StageFigure {
  stage: string;
  /** Median over the submissions that reported the stage. */
  ms: number;
}

export interface Breakdown {
  language: Language;
  /** Submissions found in both the client's records and the log. */
  samples: number;
  totalMs: number;
  stages: StageFigure[];
}

interface EvaluatorLine {
  stages: Record<string, number | null>;
  pickedUpAt: number;
  publishedAt: number;
}

interface ConsumerLine {
  stages: { queuedMs: number | null; finalizeMs: number; notifyMs: number };
  notifiedAt: number;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null;

/** The two lines per submission id; other lines (and non-JSON ones) are skipped. */
export function stageLines(log: string): { evaluator: Map<string, EvaluatorLine>; consumer: Map<string, ConsumerLine> } {
  const evaluator = new Map<string, EvaluatorLine>();
  const consumer = new Map<string, ConsumerLine>();
  for (const text of log.split("\n")) {
    if (!text.includes('"stages"')) continue;
    let line: unknown;
    try {
      line = JSON.parse(text);
    } catch {
      continue;
    }
    if (!isRecord(line) || typeof line.submissionId !== "string" || !isRecord(line.stages)) continue;
    if (line.msg === "judged" && typeof line.pickedUpAt === "number" && typeof line.publishedAt === "number") {
      evaluator.set(line.submissionId, { stages: line.stages as EvaluatorLine["stages"], pickedUpAt: line.pickedUpAt, publishedAt: line.publishedAt });
    } else if (line.msg === "submission finalized" && typeof line.notifiedAt === "number") {
      consumer.set(line.submissionId, { stages: line.stages as ConsumerLine["stages"], notifiedAt: line.notifiedAt });
    }
  }
  return { evaluator, consumer };
}

/** The evaluator's own stages, in the order they happen (see JobStages in evaluate.processor.ts). */
const EVALUATOR_STAGES: ReadonlyArray<[key: string, label: string]> = [
  ["testSetMs", "test-set lookup (cache)"],
  ["slotWaitMs", "judge slot wait"],
  ["openMs", "sandbox session open"],
  ["compileMs", "compile"],
  ["testsMs", "tests (runs + checks)"],
  ["progressFinishMs", "last progress publish"],
  ["lockMs", "lock re-assert"],
  ["publishMs", "result job add"],
];

export function breakdown(language: Language, clients: readonly ClientTimes[], log: string): Breakdown {
  const { evaluator, consumer } = stageLines(log);
  const rows = new Map<string, number[]>();
  const add = (stage: string, ms: number | null | undefined) => {
    if (typeof ms !== "number" || !Number.isFinite(ms)) return;
    rows.set(stage, [...(rows.get(stage) ?? []), ms]);
  };
  const totals: number[] = [];
  for (const client of clients) {
    const judged = evaluator.get(client.submissionId);
    const final = consumer.get(client.submissionId);
    if (!judged || !final) continue;
    totals.push(client.finalAt - client.sentAt);
    // Rows without "of which" add up to POST → final event; "of which" rows split the row above.
    add("POST → evaluator picks the job", judged.pickedUpAt - client.sentAt);
    add("  of which: POST → 201", client.acceptedAt - client.sentAt);
    add("  of which: job in Redis → picked", judged.stages.queuedMs);
    let named = 0;
    for (const [key, label] of EVALUATOR_STAGES) {
      add(label, judged.stages[key]);
      named += judged.stages[key] ?? 0;
    }
    // judgeMs spans slot wait to verdict: what it holds beyond the named stages (checker set-up, scoring).
    const judgeNamed = ["slotWaitMs", "openMs", "compileMs", "testsMs"].reduce((sum, key) => sum + (judged.stages[key] ?? 0), 0);
    const judgeOther = typeof judged.stages.judgeMs === "number" ? judged.stages.judgeMs - judgeNamed : 0;
    add("judge, other (checker set-up, scoring)", judgeOther);
    add("evaluator, other (parse, logs, event loop)", judged.publishedAt - judged.pickedUpAt - named - judgeOther);
    const consumerNamed = (final.stages.queuedMs ?? 0) + final.stages.finalizeMs + final.stages.notifyMs;
    add("result job → consumer picks it", final.stages.queuedMs);
    add("database finalize", final.stages.finalizeMs);
    add("socket notify (Redis gate, publish, mark)", final.stages.notifyMs);
    add("consumer, other", final.notifiedAt - judged.publishedAt - consumerNamed);
    add("notified → client has the event (socket-service)", client.finalAt - final.notifiedAt);
  }
  return {
    language,
    samples: totals.length,
    totalMs: median(totals),
    stages: [...rows.entries()].map(([stage, samples]) => ({ stage, ms: median(samples) })),
  };
}

export function breakdownTable(breakdowns: readonly Breakdown[]): string {
  const stages = [...new Set(breakdowns.flatMap((b) => b.stages.map((s) => s.stage)))];
  const cell = (b: Breakdown, stage: string) => {
    const figure = b.stages.find((s) => s.stage === stage);
    return figure ? fmtMs(figure.ms) : "—";
  };
  return markdownTable(
    ["stage (median ms)", ...breakdowns.map((b) => `${b.language} (${b.samples})`)],
    [...stages.map((stage) => [stage, ...breakdowns.map((b) => cell(b, stage))]), ["POST → final event", ...breakdowns.map((b) => fmtMs(b.totalMs))]],
  );
}
