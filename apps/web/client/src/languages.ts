import type { LanguageSupport } from "@codemirror/language";
import type { Language } from "./api.types.js";

interface LanguageInfo {
  label: string;
  /** Loaded on first use: each language's parser is a chunk of its own, not part of the first page load. */
  mode: () => Promise<LanguageSupport>;
  /** What the editor starts with when the problem has no stub for the language (a full program reading stdin). */
  template: string;
}

/** Every judge language (a Record: the compiler says when contracts adds one). */
export const LANGUAGE_INFO: Record<Language, LanguageInfo> = {
  PYTHON: { label: "Python 3", mode: () => import("@codemirror/lang-python").then((m) => m.python()), template: "import sys\n\ndata = sys.stdin.read().split()\n" },
  CPP: { label: "C++", mode: () => import("@codemirror/lang-cpp").then((m) => m.cpp()), template: "#include <bits/stdc++.h>\nusing namespace std;\n\nint main() {\n    \n    return 0;\n}\n" },
  C: { label: "C", mode: () => import("@codemirror/lang-cpp").then((m) => m.cpp()), template: "#include <stdio.h>\n\nint main(void) {\n    \n    return 0;\n}\n" },
  JAVA: { label: "Java", mode: () => import("@codemirror/lang-java").then((m) => m.java()), template: "import java.util.*;\n\npublic class Main {\n    public static void main(String[] args) {\n        Scanner in = new Scanner(System.in);\n    }\n}\n" },
  JAVASCRIPT: { label: "JavaScript", mode: () => import("@codemirror/lang-javascript").then((m) => m.javascript()), template: "const input = require(\"fs\").readFileSync(0, \"utf8\").trim().split(/\\s+/);\n" },
  TYPESCRIPT: {
    label: "TypeScript",
    mode: () => import("@codemirror/lang-javascript").then((m) => m.javascript({ typescript: true })),
    template: "import { readFileSync } from \"fs\";\n\nconst input: string[] = readFileSync(0, \"utf8\").trim().split(/\\s+/);\n",
  },
  GO: { label: "Go", mode: () => import("@codemirror/lang-go").then((m) => m.go()), template: "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println()\n}\n" },
  RUST: { label: "Rust", mode: () => import("@codemirror/lang-rust").then((m) => m.rust()), template: "use std::io::Read;\n\nfn main() {\n    let mut s = String::new();\n    std::io::stdin().read_to_string(&mut s).unwrap();\n}\n" },
};

export const LANGUAGE_ORDER = Object.keys(LANGUAGE_INFO) as Language[];

export function isLanguage(value: string): value is Language {
  return value in LANGUAGE_INFO;
}
