import { basicSetup } from "codemirror";
import { indentWithTab } from "@codemirror/commands";
import { Compartment, EditorState, Prec } from "@codemirror/state";
import { EditorView, keymap } from "@codemirror/view";
import type { Language } from "./api.types.js";
import { LANGUAGE_INFO } from "./languages.js";

export interface CodeEditor {
  view: EditorView;
  code(): string;
  setCode(code: string): void;
  setLanguage(language: Language): void;
  destroy(): void;
}

/**
 * CodeMirror 6 with the language's mode in a compartment (switched without losing the
 * undo history of the new text). Mod-Enter (Ctrl or Cmd) submits, with a precedence above
 * the default keymap, which would insert a line. Tab indents; Escape then Tab leaves the
 * editor (CodeMirror's own convention), so the page stays keyboard-navigable.
 */
export function createEditor(parent: HTMLElement, options: { language: Language; code: string; label: string; onChange: (code: string) => void; onSubmit: () => void }): CodeEditor {
  const mode = new Compartment();
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: options.code,
      extensions: [
        Prec.highest(keymap.of([{ key: "Mod-Enter", preventDefault: true, run: () => (options.onSubmit(), true) }])),
        basicSetup,
        keymap.of([indentWithTab]),
        mode.of(LANGUAGE_INFO[options.language].mode()),
        EditorView.contentAttributes.of({ "aria-label": options.label }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) options.onChange(update.state.doc.toString());
        }),
      ],
    }),
  });
  return {
    view,
    code: () => view.state.doc.toString(),
    setCode(code) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: code } });
    },
    setLanguage(language) {
      view.dispatch({ effects: mode.reconfigure(LANGUAGE_INFO[language].mode()) });
    },
    destroy: () => view.destroy(),
  };
}
