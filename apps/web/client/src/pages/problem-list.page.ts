import { api, describeError } from "../api.js";
import type { Difficulty, PageInfo, ProblemView } from "../api.types.js";
import { field, h, notice, replaceChildren } from "../dom.js";
import type { PageFactory } from "../router.js";
import { claims } from "../session.js";
import { kattisImport } from "./kattis-import.js";

/** acceptanceRate is a percentage with one decimal (contracts' problemStats). */
export function percent(rate: number): string {
  return `${Number.isInteger(rate) ? rate : rate.toFixed(1)} %`;
}

export const problemListPage: PageFactory = (_params, query) => {
  const difficulty = h(
    "select",
    { testid: "difficulty-filter" },
    h("option", { value: "" }, "All"),
    ...(["easy", "medium", "hard"] as const).map((d) => h("option", { value: d }, d)),
  );
  difficulty.value = query.get("difficulty") ?? "";
  const list = h("div", { "aria-live": "polite" }, notice("info", "Loading problems…"));

  const load = async () => {
    const params = new URLSearchParams({ limit: "100" });
    if (difficulty.value) params.set("difficulty", difficulty.value);
    try {
      const { problems } = await api<{ problems: ProblemView[]; pagination: PageInfo }>("GET", `/api/v1/problems?${params}`);
      const hasStats = problems.some((p) => p.stats);
      const rows = problems.map((problem) =>
        h(
          "tr",
          { testid: "problem-row" },
          h("td", {}, h("a", { href: `/problems/${problem._id}` }, problem.title)),
          h("td", {}, h("span", { class: `badge ${problem.difficulty}` }, problem.difficulty)),
          hasStats ? h("td", { class: "num" }, problem.stats?.submissions ? percent(problem.stats.acceptanceRate) : "—") : null,
        ),
      );
      replaceChildren(
        list,
        problems.length === 0
          ? notice("info", "No problems yet.")
          : h(
              "table",
              { testid: "problem-list", class: "problems" },
              h("caption", { class: "visually-hidden" }, "Problems"),
              h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Title"), h("th", { scope: "col" }, "Difficulty"), hasStats ? h("th", { scope: "col", class: "num" }, "Acceptance") : null)),
              h("tbody", {}, ...rows),
            ),
      );
    } catch (error) {
      replaceChildren(list, notice("error", describeError(error)));
    }
  };
  difficulty.addEventListener("change", () => {
    history.replaceState(null, "", difficulty.value ? `/problems?difficulty=${difficulty.value as Difficulty}` : "/problems");
    void load();
  });
  void load();

  const admin = claims()?.role === "admin";
  return {
    element: h(
      "section",
      { class: "page" },
      h("div", { class: "title-row" }, h("h1", {}, "Problems"), admin ? h("a", { class: "button", href: "/admin/problems/new" }, "New problem") : null),
      h("div", { class: "filters" }, field("Difficulty", difficulty)),
      list,
      admin ? kattisImport() : null,
    ),
  };
};
