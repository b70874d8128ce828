import { api, describeError } from "../api.js";
import type { Language, ProblemView } from "../api.types.js";
import { field, h, notice, replaceChildren } from "../dom.js";
import { createEditor, type CodeEditor } from "../editor.js";
import { LANGUAGE_INFO, LANGUAGE_ORDER, isLanguage } from "../languages.js";
import { renderMarkdown } from "../markdown.js";
import type { PageFactory } from "../router.js";
import { claims } from "../session.js";
import { judgePanel, type JudgePanel } from "./judge-panel.js";
import { percent } from "./problem-list.page.js";
import { adminActions } from "./problem-admin-actions.js";

const LAST_LANGUAGE_KEY = "sonocode.language";
const codeKey = (problemId: string, language: Language) => `sonocode.code.${problemId}.${language}`;

/** The editor's starting text: what the user last wrote for this problem and language, else the stub, else a template. */
function initialCode(problem: ProblemView, language: Language): string {
  const saved = localStorage.getItem(codeKey(problem._id, language));
  if (saved !== null) return saved;
  const stub = problem.codeStubs.find((s) => s.language === language);
  return stub ? stub.userSnippet : LANGUAGE_INFO[language].template;
}

function statement(problem: ProblemView): HTMLElement {
  const limits = [
    problem.timeLimitMs ? `Time limit ${problem.timeLimitMs} ms` : null,
    problem.memoryLimitMb ? `Memory limit ${problem.memoryLimitMb} MB` : null,
    `${problem.totalTestCases ?? problem.testCases.length} tests`,
    problem.stats
      ? problem.stats.submissions === 0
        ? "No submissions yet"
        : `Acceptance ${percent(problem.stats.acceptanceRate)} (${problem.stats.accepted} of ${problem.stats.submissions} accepted)`
      : null,
  ].filter((x): x is string => x !== null);
  const examples = problem.testCases.filter((t) => !t.hidden);
  return h(
    "article",
    { class: "statement", "aria-labelledby": "problem-title" },
    h("h1", { id: "problem-title" }, problem.title, " ", h("span", { class: `badge ${problem.difficulty}` }, problem.difficulty)),
    h("p", { class: "limits", testid: "limits" }, limits.join(" · ")),
    h("div", { class: "markdown", testid: "statement" }, renderMarkdown(problem.description)),
    examples.length ? h("h2", {}, "Examples") : null,
    ...examples.map((example, i) =>
      h(
        "div",
        { class: "example" },
        h("h3", {}, `Example ${i + 1}`),
        h("div", { class: "io" }, h("h4", {}, "Input"), h("pre", {}, example.input)),
        h("div", { class: "io" }, h("h4", {}, "Output"), h("pre", {}, example.output)),
      ),
    ),
  );
}

export const problemPage: PageFactory = (params) => {
  const id = params["id"] ?? "";
  const root = h("section", { class: "page problem-page" }, notice("info", "Loading the problem…"));
  let editor: CodeEditor | null = null;
  let panel: JudgePanel | null = null;
  let disposed = false;

  const build = (problem: ProblemView) => {
    const stored = localStorage.getItem(LAST_LANGUAGE_KEY) ?? "";
    let language: Language = isLanguage(stored) ? stored : (problem.codeStubs[0]?.language ?? "PYTHON");
    const select = h("select", { testid: "language-select" }, ...LANGUAGE_ORDER.map((l) => h("option", { value: l, selected: l === language }, LANGUAGE_INFO[l].label)));
    const editorHost = h("div", { class: "editor", testid: "editor" });
    panel = judgePanel({ problemId: problem._id, language: () => language, code: () => editor?.code() ?? "" });
    editor = createEditor(editorHost, {
      language,
      code: initialCode(problem, language),
      label: "Code editor",
      onChange: (code) => localStorage.setItem(codeKey(problem._id, language), code),
      onSubmit: () => panel?.submit(),
    });
    select.addEventListener("change", () => {
      if (!isLanguage(select.value) || !editor) return;
      language = select.value;
      localStorage.setItem(LAST_LANGUAGE_KEY, language);
      editor.setLanguage(language);
      editor.setCode(initialCode(problem, language));
    });
    const workspace = h(
      "div",
      {
        class: "workspace",
        // Ctrl/Cmd+Enter submits from anywhere on the workspace, not only inside the editor.
        onkeydown: (event: Event) => {
          const key = event as KeyboardEvent;
          if (key.key === "Enter" && (key.ctrlKey || key.metaKey) && !key.defaultPrevented) {
            key.preventDefault();
            panel?.submit();
          }
        },
      },
      h("div", { class: "toolbar" }, field("Language", select)),
      h("div", { class: "field" }, h("span", { class: "label", id: "editor-label" }, "Code"), editorHost),
      panel.element,
    );
    replaceChildren(root, h("div", { class: "split" }, h("div", { class: "left" }, statement(problem), claims()?.role === "admin" ? adminActions(problem) : null), workspace));
    document.title = `${problem.title} · SonoCode`;
  };

  api<ProblemView>("GET", `/api/v1/problems/${encodeURIComponent(id)}`)
    .then((problem) => {
      if (!disposed) build(problem);
    })
    .catch((error: unknown) => replaceChildren(root, notice("error", describeError(error))));

  return {
    element: root,
    dispose() {
      disposed = true;
      panel?.dispose();
      editor?.destroy();
      document.title = "SonoCode";
    },
  };
};
