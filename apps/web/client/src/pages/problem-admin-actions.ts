import { ApiError, api, describeError } from "../api.js";
import type { ProblemView } from "../api.types.js";
import { h, notice, replaceChildren } from "../dom.js";

/** Admin tools on a problem page: edit, and rejudge where the API has it (issue 10). */
export function adminActions(problem: ProblemView): HTMLElement {
  const status = h("div", { "aria-live": "polite" });
  const rejudge = h("button", { type: "button", class: "secondary", testid: "rejudge-button" }, "Rejudge all submissions");
  rejudge.addEventListener("click", async () => {
    if (!confirm(`Re-judge every submission of “${problem.title}”?`)) return;
    rejudge.disabled = true;
    try {
      const { queued } = await api<{ queued: number }>("POST", `/api/v1/problems/${problem._id}/rejudge`);
      replaceChildren(status, notice("info", `${queued} submission${queued === 1 ? "" : "s"} queued for rejudging.`));
    } catch (error) {
      const missing = error instanceof ApiError && error.status === 404 && error.code !== "PROBLEM_NOT_FOUND";
      replaceChildren(status, notice("error", missing ? "Rejudge is not available on this server." : describeError(error)));
    } finally {
      rejudge.disabled = false;
    }
  });
  return h(
    "div",
    { class: "card admin-actions" },
    h("h2", {}, "Admin"),
    h("div", { class: "actions" }, h("a", { class: "button secondary", href: `/admin/problems/${problem._id}/edit`, testid: "edit-problem" }, "Edit problem"), rejudge),
    status,
  );
}
