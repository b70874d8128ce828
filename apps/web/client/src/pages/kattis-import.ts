import { api, describeError } from "../api.js";
import type { ProblemView } from "../api.types.js";
import { field, h, notice, replaceChildren } from "../dom.js";
import { navigate } from "../router.js";

/** Admin: upload a Kattis problem package (a zip) to POST /api/v1/problems/import. */
export function kattisImport(): HTMLElement {
  const file = h("input", { type: "file", accept: ".zip,application/zip", required: true, testid: "import-file" });
  const difficulty = h("select", {}, ...(["easy", "medium", "hard"] as const).map((d) => h("option", { value: d, selected: d === "medium" }, d)));
  const status = h("div", { "aria-live": "polite" });
  const onsubmit = async (event: Event) => {
    event.preventDefault();
    const zip = file.files?.[0];
    if (!zip) return;
    replaceChildren(status, notice("info", "Importing…"));
    try {
      const problem = await api<ProblemView>("POST", `/api/v1/problems/import?difficulty=${difficulty.value}`, { raw: { data: zip, contentType: "application/zip" } });
      navigate(`/problems/${problem._id}`);
    } catch (error) {
      replaceChildren(status, notice("error", describeError(error)));
    }
  };
  return h(
    "form",
    { class: "card", onsubmit },
    h("h2", {}, "Import a Kattis package"),
    field("Package (.zip)", file),
    field("Difficulty", difficulty),
    h("button", { type: "submit" }, "Import"),
    status,
  );
}
