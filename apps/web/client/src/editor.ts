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
 * CodeMirror 6 with the language's mode in a compartment, reconfigured when the language
 * changes (the mode's parser is loaded on first use). Mod-Enter (Ctrl or Cmd) submits, with a precedence above
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
        mode.of([]),
        EditorView.contentAttributes.of({ "aria-label": options.label }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) options.onChange(update.state.doc.toString());
        }),
      ],
    }),
  });
  // Modes load asynchronously; a late load for a language no longer selected is dropped.
  let wanted: Language = options.language;
  let destroyed = false;
  const loadMode = (language: Language) => {
    wanted = language;
    LANGUAGE_INFO[language].mode().then(
      (support) => {
        if (wanted === language && !destroyed) view.dispatch({ effects: mode.reconfigure(support) });
      },
      () => {
        // A chunk that fails to load leaves plain text editing; the code is unaffected.
      },
    );
  };
  loadMode(options.language);
  return {
    view,
    code: () => view.state.doc.toString(),
    setCode(code) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: code } });
    },
    setLanguage: loadMode,
    destroy() {
      destroyed = true;
      view.destroy();
    },
  };
}
