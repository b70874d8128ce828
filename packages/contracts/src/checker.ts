import { z } from "zod";
import { languageInputSchema, languageSchema, type Language } from "./languages.js";

/** How a test's output is judged. Do not rename: stored in problems and carried in jobs. */
export const CHECKER_TYPES = ["exact", "tokens", "float", "custom"] as const;
export type CheckerType = (typeof CHECKER_TYPES)[number];

/**
 * How a custom checker is called (both as Codeforces Polygon and Kattis packages do):
 * - testlib: `checker <input> <output> <answer>`; exit 0 AC, 1 WA, 2 PE (WA), 3 checker failure, 7 partial (score first on stdout);
 * - kattis:  `validator <input> <answer> <feedback_dir> < output`; exit 42 AC, 43 WA, anything else checker failure.
 */
export const CHECKER_PROTOCOLS = ["testlib", "kattis"] as const;
export type CheckerProtocol = (typeof CHECKER_PROTOCOLS)[number];

/**
 * Languages a custom checker may be written in: those whose build leaves one file to run
 * (a native binary) or that run from their source. Java (class files) and TypeScript
 * (emitted JavaScript) are left out rather than half-supported.
 */
export const CHECKER_LANGUAGES = ["C", "CPP", "PYTHON", "GO", "RUST", "JAVASCRIPT"] as const satisfies readonly Language[];

/** Bounds of a custom checker and of its runs (the judge enforces the run limits). */
export const CHECKER_LIMITS = {
  sourceBytes: 512 * 1024,
  files: 16,
  /** All `files` together (a testlib.h is ~250 KiB). */
  filesBytes: 2 * 1024 * 1024,
  timeLimitMs: 10_000,
  memoryLimitMb: 256,
  /** Code points of the checker's stderr kept as checkerMessage. */
  messageChars: 4 * 1024,
} as const;

/** UTF-8 size of a string without encoding it (contracts also run where Buffer does not exist). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** A file beside the checker's source: a plain name in its work dir, never a path. */
export const checkerFileNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/, "must be a plain file name (letters, digits, . _ -), not a path");

export const checkerFileSchema = z.object({ name: checkerFileNameSchema, content: z.string() });
export type CheckerFile = z.infer<typeof checkerFileSchema>;

/**
 * The checker as stored, carried with the test set and given to the judge. It is only
 * shape-checked here: the judge refuses (IE, never another checker) what it cannot honour.
 */
export const checkerSchema = z.object({
  type: z.enum(CHECKER_TYPES),
  /** For "float": absolute or relative tolerance (whichever is looser). */
  epsilon: z.number().positive().max(1).optional(),
  /** For "tokens" and "float": false compares ASCII letters case-insensitively (Kattis' default). Default true. */
  caseSensitive: z.boolean().optional(),
  /** For "custom" (default testlib). */
  protocol: z.enum(CHECKER_PROTOCOLS).optional(),
  language: languageSchema.optional(),
  source: z.string().optional(),
  files: z.array(checkerFileSchema).optional(),
});
export type Checker = z.infer<typeof checkerSchema>;
export const DEFAULT_CHECKER: Checker = { type: "exact" };

/** True when the checker is what a problem without one gets: the test set's hash is then its tests' alone. */
export function isDefaultChecker(checker: Checker | undefined): boolean {
  return checker === undefined || (checker.type === "exact" && checker.caseSensitive !== false);
}

/** What a non-admin may know of a checker: how answers are compared, never a custom checker's code. */
export function publicChecker(checker: Checker): Checker {
  const { type, epsilon, caseSensitive, protocol } = checker;
  return {
    type,
    ...(epsilon === undefined ? {} : { epsilon }),
    ...(caseSensitive === undefined ? {} : { caseSensitive }),
    ...(protocol === undefined ? {} : { protocol }),
  };
}

/** The checker of POST/PUT/PATCH bodies: every field checked against its type. */
export const checkerInputSchema = checkerSchema
  .extend({
    language: languageInputSchema.optional(),
    source: z.string().min(1).max(CHECKER_LIMITS.sourceBytes).optional(),
    files: z.array(checkerFileSchema).max(CHECKER_LIMITS.files).optional(),
  })
  .superRefine((checker, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
    if (checker.type !== "custom") {
      for (const field of ["protocol", "language", "source", "files"] as const) {
        if (checker[field] !== undefined) issue(field, `only a custom checker has ${field}`);
      }
      if (checker.type === "exact" && checker.caseSensitive === false) issue("caseSensitive", "the exact checker is always case-sensitive");
      return;
    }
    if (checker.epsilon !== undefined) issue("epsilon", "a custom checker decides tolerance itself");
    if (checker.caseSensitive !== undefined) issue("caseSensitive", "a custom checker decides case itself");
    if (checker.language === undefined) issue("language", "a custom checker needs its language");
    else if (!(CHECKER_LANGUAGES as readonly string[]).includes(checker.language)) {
      issue("language", `a custom checker can be written in ${CHECKER_LANGUAGES.join(", ")}`);
    }
    if (checker.source === undefined) issue("source", "a custom checker needs its source");
    const files = checker.files ?? [];
    if (new Set(files.map((file) => file.name)).size !== files.length) issue("files", "file names must be unique");
    if (files.some((file) => /^main(\.|$)/i.test(file.name))) issue("files", "names main and main.* are the checker's own (its source and build)");
    const bytes = files.reduce((sum, file) => sum + utf8Length(file.content), 0);
    if (bytes > CHECKER_LIMITS.filesBytes) issue("files", `files may hold at most ${CHECKER_LIMITS.filesBytes} bytes together`);
  });
