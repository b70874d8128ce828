import { api, describeError } from "../api.js";
import type { PageInfo, SubmissionSummaryView, VerdictSource } from "../api.types.js";
import { h, notice, replaceChildren } from "../dom.js";
import { LANGUAGE_INFO, isLanguage } from "../languages.js";
import { onLive, onReconnect } from "../live.js";
import { navigate, type PageFactory } from "../router.js";
import { token } from "../session.js";
import { statusBadge } from "./verdict.view.js";

/** The signed-in user's submissions, newest first; rows update live as verdicts arrive. */
export const submissionsPage: PageFactory = () => {
  if (!token()) {
    queueMicrotask(() => navigate(`/signin?next=/submissions`, { replace: true }));
    return { element: h("section") };
  }
  const list = h("div", { "aria-live": "polite" }, notice("info", "Loading your submissions…"));
  let rows: SubmissionSummaryView[] = [];

  const render = () => {
    if (rows.length === 0) {
      replaceChildren(list, notice("info", "No submissions yet: open a problem and press Submit."));
      return;
    }
    replaceChildren(
      list,
      h(
        "table",
        { testid: "submission-list", class: "submissions" },
        h("caption", { class: "visually-hidden" }, "My submissions"),
        h("thead", {}, h("tr", {}, ...["When", "Problem", "Language", "Verdict", "Tests", "Time"].map((c) => h("th", { scope: "col" }, c)))),
        h(
          "tbody",
          {},
          ...rows.map((s) =>
            h(
              "tr",
              { testid: "submission-row", "data-status": s.status },
              h("td", {}, h("time", { datetime: s.createdAt }, new Date(s.createdAt).toLocaleString())),
              h("td", {}, h("a", { href: `/problems/${s.problemId}` }, s.problemId.slice(-6))),
              h("td", {}, isLanguage(s.language) ? LANGUAGE_INFO[s.language].label : s.language),
              h("td", {}, statusBadge(s.status)),
              h("td", { class: "num" }, `${s.passed} / ${s.total}`),
              h("td", { class: "num" }, s.timeMs === null ? "—" : `${s.timeMs} ms`),
            ),
          ),
        ),
      ),
    );
  };

  const load = async () => {
    try {
      const data = await api<{ submissions: SubmissionSummaryView[]; pagination: PageInfo }>("GET", "/api/v1/submissions?limit=50");
      rows = data.submissions;
      render();
    } catch (error) {
      replaceChildren(list, notice("error", describeError(error)));
    }
  };
  void load();

  const unsubscribe = [
    onLive("submissionPayloadResponse", (submission: VerdictSource) => {
      const index = rows.findIndex((r) => r._id === submission._id);
      if (index === -1) return void load();
      rows[index] = { ...rows[index]!, status: submission.status, passed: submission.passed, total: submission.total, timeMs: submission.timeMs, memoryKb: submission.memoryKb };
      render();
    }),
    onReconnect(() => void load()),
  ];

  return {
    element: h("section", { class: "page" }, h("h1", {}, "My submissions"), list),
    dispose: () => unsubscribe.forEach((off) => off()),
  };
};
