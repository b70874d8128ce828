import type { RunView, VerdictSource } from "../api.types.js";
import { h } from "../dom.js";

export const STATUS_LABELS: Record<string, string> = {
  Pending: "Pending",
  Running: "Running",
  Success: "Accepted",
  WA: "Wrong Answer",
  TLE: "Time Limit Exceeded",
  MLE: "Memory Limit Exceeded",
  RE: "Runtime Error",
  CE: "Compilation Error",
  OLE: "Output Limit Exceeded",
  IE: "Internal Error",
};

export function statusLabel(status: string): string {
  return STATUS_LABELS[status] ?? status;
}

export function statusBadge(status: string): HTMLElement {
  return h("span", { class: `status s-${status}` }, statusLabel(status));
}

function block(label: string, text: string): HTMLElement {
  return h("div", { class: "io" }, h("h4", {}, label), h("pre", {}, text === "" ? "(empty)" : text));
}

const memory = (kb: number | null) => (kb === null ? "—" : kb >= 1024 ? `${(kb / 1024).toFixed(1)} MB` : `${kb} KB`);
const time = (ms: number | null) => (ms === null ? "—" : `${ms} ms`);

/** The final verdict of a submission: figures, percentile and score where the API gives them, the failing visible test, compiler output. */
export function verdictView(submission: VerdictSource): HTMLElement {
  const beats = submission.percentile;
  const facts = h(
    "dl",
    { class: "facts" },
    h("dt", {}, "Tests"),
    h("dd", {}, `${submission.passed} / ${submission.total} passed`),
    h("dt", {}, "Time"),
    h("dd", {}, time(submission.timeMs), beats?.timeMs != null ? h("span", { class: "beats", testid: "percentile-time" }, ` · beats ${beats.timeMs.toFixed(1)} %`) : null),
    h("dt", {}, "Memory"),
    h("dd", {}, memory(submission.memoryKb), beats?.memoryKb != null ? h("span", { class: "beats" }, ` · beats ${beats.memoryKb.toFixed(1)} %`) : null),
    submission.score != null ? h("dt", {}, "Score") : null,
    submission.score != null ? h("dd", { testid: "score" }, String(submission.score)) : null,
  );
  const groups = submission.groups?.length
    ? h(
        "table",
        { class: "groups" },
        h("caption", {}, "Subtasks"),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Group"), h("th", { scope: "col" }, "Points"), h("th", { scope: "col" }, "Status"))),
        h("tbody", {}, ...submission.groups.map((g) => h("tr", {}, h("td", {}, g.name), h("td", { class: "num" }, `${g.earned} / ${g.points}`), h("td", {}, statusBadge(g.status))))),
      )
    : null;
  const failed = submission.failedTest;
  return h(
    "div",
    { class: `verdict v-${submission.status}` },
    h("h3", { testid: "verdict-status" }, statusBadge(submission.status)),
    facts,
    groups,
    submission.message ? h("p", { class: "message" }, submission.message) : null,
    submission.status === "CE" && submission.compileOutput ? block("Compiler output", submission.compileOutput) : null,
    failed
      ? h("div", { class: "failed", testid: "failed-test" }, h("h4", {}, `Failing test #${failed.index + 1}`), block("Input", failed.input), block("Expected", failed.expected), block("Your output", failed.actual))
      : null,
  );
}

/** A run on custom input or the visible examples: output beside the expected output where there is one. */
export function runView(run: RunView): HTMLElement {
  return h(
    "div",
    { class: "run" },
    h("h3", {}, statusBadge(run.status)),
    run.message ? h("p", { class: "message" }, run.message) : null,
    run.compileOutput ? block("Compiler output", run.compileOutput) : null,
    ...run.results.map((result) =>
      h(
        "div",
        { class: "run-case" },
        h("h4", {}, `Case ${result.index + 1} · `, statusBadge(result.status), ` · ${time(result.timeMs)} · ${memory(result.memoryKb)}`),
        block("Input", result.input),
        block("Output", result.output),
        result.expected === null ? h("p", { class: "hint" }, "No expected output: the problem has no reference solution.") : block("Expected", result.expected),
        result.checkerMessage ? block("Checker", result.checkerMessage) : null,
      ),
    ),
  );
}
