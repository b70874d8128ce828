import type { CodeStub, Language } from "../api.types.js";
import { field, h } from "../dom.js";
import { LANGUAGE_INFO, LANGUAGE_ORDER } from "../languages.js";

const area = (value: string, rows: number, testid?: string) => {
  const element = h("textarea", { rows, spellcheck: "false", testid });
  element.value = value;
  return element;
};

export interface TestRow {
  element: HTMLElement;
  value(): { input: string; output: string; hidden: boolean };
}

/** One test case: input, expected output, hidden flag. */
export function testRow(initial: { input: string; output: string; hidden: boolean }, index: number, onRemove: (row: TestRow) => void): TestRow {
  const input = area(initial.input, 3, "test-input");
  const output = area(initial.output, 3, "test-output");
  const hidden = h("input", { type: "checkbox", testid: "test-hidden" });
  hidden.checked = initial.hidden;
  hidden.id = `hidden-${Math.random().toString(36).slice(2, 10)}`;
  const row: TestRow = {
    element: h(
      "fieldset",
      { class: "row", testid: "test-row" },
      h("legend", {}, `Test ${index + 1}`),
      h("div", { class: "pair" }, field("Input", input), field("Expected output", output)),
      h("div", { class: "field inline" }, hidden, h("label", { for: hidden.id }, "Hidden (not shown to users)")),
      h("button", { type: "button", class: "link", onclick: () => onRemove(row) }, "Remove test"),
    ),
    value: () => ({ input: input.value, output: output.value, hidden: hidden.checked }),
  };
  return row;
}

export interface StubRow {
  element: HTMLElement;
  value(): CodeStub;
}

/** One language's stub: the user edits the middle part; start and end wrap it when judged. */
export function stubRow(initial: { language: Language; startSnippet: string; userSnippet: string; endSnippet: string }, onRemove: (row: StubRow) => void): StubRow {
  const language = h("select", {}, ...LANGUAGE_ORDER.map((l) => h("option", { value: l, selected: l === initial.language }, LANGUAGE_INFO[l].label)));
  const start = area(initial.startSnippet, 3);
  const user = area(initial.userSnippet, 4);
  const end = area(initial.endSnippet, 3);
  const row: StubRow = {
    element: h(
      "fieldset",
      { class: "row" },
      h("legend", {}, "Code stub"),
      field("Language", language),
      field("Start (hidden from the user)", start),
      field("User part (shown in the editor)", user),
      field("End (hidden from the user)", end),
      h("button", { type: "button", class: "link", onclick: () => onRemove(row) }, "Remove stub"),
    ),
    value: () => ({ language: language.value as Language, startSnippet: start.value, userSnippet: user.value, endSnippet: end.value }),
  };
  return row;
}
