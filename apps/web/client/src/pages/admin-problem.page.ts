import { api, describeError } from "../api.js";
import type { Language, ProblemInput, ProblemView } from "../api.types.js";
import { field, h, notice, replaceChildren } from "../dom.js";
import { LANGUAGE_INFO, LANGUAGE_ORDER } from "../languages.js";
import { navigate, type PageFactory } from "../router.js";
import { claims } from "../session.js";
import { stubRow, testRow, type StubRow, type TestRow } from "./admin-problem.rows.js";

const CHECKERS = ["exact", "tokens", "float", "custom"] as const;

const optionalInt = (input: HTMLInputElement): number | undefined => (input.value.trim() === "" ? undefined : Number(input.value));

/** Create (no id) or edit a problem: statement, limits, checker, tests with the hidden flag, stubs, reference solution. */
export const adminProblemPage: PageFactory = (params) => {
  const id = params["id"];
  const root = h("section", { class: "page narrow-wide" });
  if (claims()?.role !== "admin") {
    replaceChildren(root, h("h1", {}, "Admin"), notice("error", "Sign in as an admin to create or edit problems."));
    return { element: root };
  }

  const title = h("input", { type: "text", required: true, maxlength: 200, testid: "problem-title" });
  const difficulty = h("select", { testid: "problem-difficulty" }, ...(["easy", "medium", "hard"] as const).map((d) => h("option", { value: d }, d)));
  const description = h("textarea", { rows: 8, required: true, testid: "problem-description" });
  const timeLimit = h("input", { type: "number", min: 100, max: 20000, step: 100, placeholder: "2000" });
  const memoryLimit = h("input", { type: "number", min: 16, max: 1024, placeholder: "256" });
  const checker = h("select", { testid: "problem-checker" }, ...CHECKERS.map((c) => h("option", { value: c }, c)));
  const epsilon = h("input", { type: "number", step: "any", min: 0, max: 1, placeholder: "1e-6" });
  const checkerLanguage = h("select", {}, ...(["C", "CPP", "PYTHON", "GO", "RUST", "JAVASCRIPT"] as const).map((l) => h("option", { value: l }, LANGUAGE_INFO[l].label)));
  const checkerProtocol = h("select", {}, h("option", { value: "testlib" }, "testlib (checker input output answer)"), h("option", { value: "kattis" }, "kattis (exit 42 / 43)"));
  const checkerSource = h("textarea", { rows: 6, spellcheck: "false" });
  const customBox = h("div", { class: "sub" }, field("Checker language", checkerLanguage), field("Protocol", checkerProtocol), field("Checker source", checkerSource));
  const floatBox = h("div", { class: "sub" }, field("Tolerance (absolute or relative)", epsilon));
  const refLanguage = h("select", { testid: "reference-language" }, h("option", { value: "" }, "none"), ...LANGUAGE_ORDER.map((l) => h("option", { value: l }, LANGUAGE_INFO[l].label)));
  const refCode = h("textarea", { rows: 5, spellcheck: "false", testid: "reference-code" });

  const tests: TestRow[] = [];
  const stubs: StubRow[] = [];
  const testsBox = h("div");
  const stubsBox = h("div");
  const status = h("div", { "aria-live": "polite" });

  const syncChecker = () => {
    customBox.hidden = checker.value !== "custom";
    floatBox.hidden = checker.value !== "float";
  };
  checker.addEventListener("change", syncChecker);
  const addTest = (t = { input: "", output: "", hidden: false }) => {
    const row = testRow(t, tests.length, (r) => (tests.splice(tests.indexOf(r), 1), r.element.remove()));
    tests.push(row);
    testsBox.append(row.element);
  };
  const addStub = (s: { language: Language; startSnippet: string; userSnippet: string; endSnippet: string } = { language: "PYTHON", startSnippet: "", userSnippet: "", endSnippet: "" }) => {
    const row = stubRow(s, (r) => (stubs.splice(stubs.indexOf(r), 1), r.element.remove()));
    stubs.push(row);
    stubsBox.append(row.element);
  };

  const input = (): ProblemInput => {
    const type = checker.value as (typeof CHECKERS)[number];
    const body: ProblemInput = {
      title: title.value,
      description: description.value,
      difficulty: difficulty.value as ProblemInput["difficulty"],
      testCases: tests.map((t) => t.value()),
      codeStubs: stubs.map((s) => s.value()),
    };
    const time = optionalInt(timeLimit);
    const memory = optionalInt(memoryLimit);
    if (time !== undefined) body.timeLimitMs = time;
    if (memory !== undefined) body.memoryLimitMb = memory;
    if (type === "float") body.checker = { type, ...(epsilon.value ? { epsilon: Number(epsilon.value) } : {}) };
    else if (type === "custom") body.checker = { type, language: checkerLanguage.value as Language, protocol: checkerProtocol.value as "testlib" | "kattis", source: checkerSource.value };
    else body.checker = { type };
    if (refLanguage.value) body.referenceSolution = { language: refLanguage.value as Language, code: refCode.value };
    return body;
  };

  const onsubmit = async (event: Event) => {
    event.preventDefault();
    replaceChildren(status, notice("info", "Saving…"));
    try {
      const saved = await api<ProblemView>(id ? "PUT" : "POST", id ? `/api/v1/problems/${id}` : "/api/v1/problems", { body: input() });
      navigate(`/problems/${saved._id}`);
    } catch (error) {
      replaceChildren(status, notice("error", describeError(error)));
    }
  };

  const form = h(
    "form",
    { class: "admin-form", onsubmit, testid: "problem-form" },
    field("Title", title),
    field("Difficulty", difficulty),
    field("Statement (Markdown)", description),
    h("div", { class: "pair" }, field("Time limit (ms)", timeLimit), field("Memory limit (MB)", memoryLimit)),
    field("Checker", checker),
    floatBox,
    customBox,
    h("h2", {}, "Tests"),
    testsBox,
    h("button", { type: "button", class: "secondary", testid: "add-test", onclick: () => addTest() }, "Add test"),
    h("h2", {}, "Code stubs"),
    stubsBox,
    h("button", { type: "button", class: "secondary", onclick: () => addStub() }, "Add stub"),
    h("h2", {}, "Reference solution"),
    h("p", { class: "hint" }, "Run on custom input takes its expected output from this program. Admins only."),
    field("Language", refLanguage),
    field("Code", refCode),
    h("div", { class: "actions" }, h("button", { type: "submit", testid: "save-problem" }, id ? "Save changes" : "Create problem")),
    status,
  );

  const fill = (problem: ProblemView) => {
    title.value = problem.title;
    difficulty.value = problem.difficulty;
    description.value = problem.description;
    timeLimit.value = problem.timeLimitMs ? String(problem.timeLimitMs) : "";
    memoryLimit.value = problem.memoryLimitMb ? String(problem.memoryLimitMb) : "";
    checker.value = problem.checker?.type ?? "exact";
    epsilon.value = problem.checker?.epsilon ? String(problem.checker.epsilon) : "";
    if (problem.checker?.language) checkerLanguage.value = problem.checker.language;
    checkerProtocol.value = problem.checker?.protocol ?? "testlib";
    checkerSource.value = problem.checker?.source ?? "";
    refLanguage.value = problem.referenceSolution?.language ?? "";
    refCode.value = problem.referenceSolution?.code ?? "";
    problem.testCases.forEach((t) => addTest({ input: t.input, output: t.output, hidden: t.hidden }));
    problem.codeStubs.forEach((s) => addStub(s));
    syncChecker();
  };

  replaceChildren(root, h("h1", {}, id ? "Edit problem" : "New problem"), form);
  if (id) {
    api<ProblemView>("GET", `/api/v1/problems/${encodeURIComponent(id)}`).then(fill, (error: unknown) => replaceChildren(status, notice("error", describeError(error))));
  } else {
    addTest();
    syncChecker();
  }
  return { element: root };
};
