import { ApiError, api, describeError } from "../api.js";
import type { Language, ProgressEvent, RunResultEvent, RunView, SubmissionView, VerdictSource } from "../api.types.js";
import { field, h, notice, replaceChildren } from "../dom.js";
import { onLive, onReconnect } from "../live.js";
import { token } from "../session.js";
import { runView, verdictView } from "./verdict.view.js";

const ACTIVE = new Set(["Pending", "Running"]);
/** Fallback polling while a verdict is due: the socket is the fast path, GET is the truth. */
const POLL_MS = 3_000;

export interface JudgePanel {
  element: HTMLElement;
  submit(): void;
  dispose(): void;
}

interface Source {
  problemId: string;
  language(): Language;
  code(): string;
}

export function judgePanel(source: Source): JudgePanel {
  const customInput = h("textarea", { rows: 4, spellcheck: "false", testid: "custom-input", placeholder: "Leave empty to run the visible examples" });
  const runButton = h("button", { type: "button", class: "secondary", testid: "run-button" }, "Run");
  const submitButton = h("button", { type: "button", testid: "submit-button", title: "Ctrl+Enter / Cmd+Enter" }, "Submit");
  const runResult = h("div", { testid: "run-result", "aria-live": "polite", class: "result-box", hidden: true });
  const progress = h("div", { testid: "progress", "aria-live": "polite", class: "progress-box", hidden: true });
  const verdict = h("div", { testid: "verdict", "aria-live": "polite", class: "result-box", hidden: true });

  let watching: string | null = null;
  let runWatching: string | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let runTimer: ReturnType<typeof setTimeout> | undefined;
  // Events can beat the POST's answer (a fast judge): the latest one per id waits here until
  // the id is known. Bounded: a tab only ever waits for its own few submissions.
  type Early = { kind: "progress"; event: ProgressEvent } | { kind: "result"; event: VerdictSource } | { kind: "run"; event: RunResultEvent };
  const early = new Map<string, Early>();
  const keepEarly = (id: string, event: Early) => {
    if (early.size >= 20) early.delete(early.keys().next().value ?? "");
    early.set(id, event);
  };

  const needToken = (box: HTMLElement): boolean => {
    if (token()) return false;
    box.hidden = false;
    replaceChildren(box, h("p", { class: "notice error", role: "alert" }, "Sign in to run or submit: ", h("a", { href: `/signin?next=${encodeURIComponent(location.pathname)}` }, "sign in")));
    return true;
  };

  const showProgress = (status: string, passed: number, total: number) => {
    progress.hidden = false;
    const bar = h("progress", { max: Math.max(total, 1), value: passed, "aria-label": "Tests passed so far" });
    replaceChildren(progress, h("span", { testid: "progress-text" }, status === "Pending" ? "Queued…" : `Running: ${passed} / ${total} tests passed`), bar);
  };

  const finish = (submission: VerdictSource) => {
    if (submission._id !== watching || ACTIVE.has(submission.status)) return;
    watching = null;
    clearTimeout(timer);
    showProgress("Running", submission.passed, submission.total);
    replaceChildren(progress.querySelector("[data-testid=progress-text]") ?? progress, `Finished: ${submission.passed} / ${submission.total} tests passed`);
    verdict.hidden = false;
    replaceChildren(verdict, verdictView(submission));
    submitButton.disabled = false;
  };

  const poll = async () => {
    const id = watching;
    if (!id) return;
    try {
      const submission = await api<SubmissionView>("GET", `/api/v1/submissions/${id}`);
      if (ACTIVE.has(submission.status) && id === watching) showProgress(submission.status, submission.passed, submission.total);
      finish(submission);
    } catch {
      // A missed poll is retried; the socket may still deliver.
    }
    if (watching === id) timer = setTimeout(() => void poll(), POLL_MS);
  };

  const submit = async () => {
    if (needToken(verdict) || watching) return;
    submitButton.disabled = true;
    verdict.hidden = true;
    showProgress("Pending", 0, 0);
    try {
      const { submission } = await api<{ submission: { _id: string } }>("POST", "/api/v1/submissions", {
        body: { problemId: source.problemId, language: source.language(), code: source.code() },
      });
      watching = submission._id;
      timer = setTimeout(() => void poll(), POLL_MS);
      const before = early.get(submission._id);
      early.delete(submission._id);
      if (before?.kind === "progress") showProgress(before.event.status, before.event.passed, before.event.total);
      else if (before?.kind === "result") finish(before.event);
    } catch (error) {
      submitButton.disabled = false;
      progress.hidden = true;
      verdict.hidden = false;
      replaceChildren(verdict, notice("error", describeError(error)));
    }
  };

  const finishRun = (run: RunView) => {
    if (run._id !== runWatching || ACTIVE.has(run.status)) return;
    runWatching = null;
    clearTimeout(runTimer);
    runButton.disabled = false;
    replaceChildren(runResult, runView(run));
  };

  const pollRun = async () => {
    const id = runWatching;
    if (!id) return;
    clearTimeout(runTimer);
    try {
      finishRun(await api<RunView>("GET", `/api/v1/runs/${id}`));
    } catch {
      // Retried below.
    }
    if (runWatching === id) {
      clearTimeout(runTimer);
      runTimer = setTimeout(() => void pollRun(), POLL_MS);
    }
  };

  // run:result has no texts (no input, output or expected: they made each event up to MB), so
  // its final state is the cue to read the run now rather than at the next poll.
  const runEnded = (event: RunResultEvent) => {
    if (event._id === runWatching && !ACTIVE.has(event.status)) void pollRun();
  };

  const run = async () => {
    if (needToken(runResult) || runWatching) return;
    runButton.disabled = true;
    runResult.hidden = false;
    replaceChildren(runResult, notice("info", "Running…"));
    const input = customInput.value;
    try {
      const { run: created } = await api<{ run: { _id: string; status: string } }>("POST", "/api/v1/runs", {
        body: { problemId: source.problemId, language: source.language(), code: source.code(), ...(input === "" ? {} : { input }) },
      });
      runWatching = created._id;
      runTimer = setTimeout(() => void pollRun(), POLL_MS);
      const before = early.get(created._id);
      early.delete(created._id);
      if (before?.kind === "run") runEnded(before.event);
    } catch (error) {
      runButton.disabled = false;
      const missing = error instanceof ApiError && error.status === 404 && error.code !== "PROBLEM_NOT_FOUND";
      replaceChildren(runResult, notice("error", missing ? "Run is not available on this server (POST /api/v1/runs answered 404): submit instead." : describeError(error)));
    }
  };

  const unsubscribe = [
    onLive("submission:progress", (event) => {
      if (event.submissionId === watching) showProgress(event.status, event.passed, event.total);
      else if (!watching) keepEarly(event.submissionId, { kind: "progress", event });
    }),
    onLive("submissionPayloadResponse", (submission) => {
      if (submission._id === watching) finish(submission);
      else if (!watching) keepEarly(submission._id, { kind: "result", event: submission });
    }),
    onLive("run:result", (event) => {
      if (event._id === runWatching) runEnded(event);
      else if (!runWatching) keepEarly(event._id, { kind: "run", event });
    }),
    // Events sent while disconnected are gone: re-read what is still due.
    onReconnect(() => {
      void poll();
      void pollRun();
    }),
  ];

  runButton.addEventListener("click", () => void run());
  submitButton.addEventListener("click", () => void submit());

  return {
    element: h(
      "div",
      { class: "judge" },
      field("Custom input", customInput),
      h("div", { class: "actions" }, runButton, submitButton, h("small", { class: "hint" }, "Ctrl/Cmd+Enter submits")),
      runResult,
      progress,
      verdict,
    ),
    submit: () => void submit(),
    dispose() {
      for (const off of unsubscribe) off();
      clearTimeout(timer);
      clearTimeout(runTimer);
    },
  };
}
