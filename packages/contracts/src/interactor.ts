import { z } from "zod";
import { CHECKER_LANGUAGES, CHECKER_LIMITS, CHECKER_PROTOCOLS, checkerFileSchema, utf8Length, type Checker, type CheckerProtocol } from "./checker.js";
import { languageInputSchema, languageSchema } from "./languages.js";

/**
 * An interactive problem's interactor: it runs side by side with the program, their
 * standard streams crossed (the interactor's stdout is the program's stdin and the other
 * way round), gets the test's files, and decides with exit codes:
 * - testlib (default): `interactor <input> <output>`; exit 0 AC, 1 WA, 2 PE (WA), 3 its own
 *   failure, 7 partial credit (the score in [0, 1] as the first token of its <output> file);
 * - kattis:  `validator <input> <answer> <feedback_dir>`; exit 42 AC, 43 WA, anything else its failure.
 * Written in one of CHECKER_LANGUAGES; `files` sit beside the source when it is built
 * (a testlib.h). Stored with the problem, carried with the test set (part of its hash),
 * never in a job.
 */
export const interactorSchema = z.object({
  protocol: z.enum(CHECKER_PROTOCOLS).optional(),
  language: languageSchema,
  source: z.string(),
  files: z.array(checkerFileSchema).optional(),
});
export type Interactor = z.infer<typeof interactorSchema>;

/** The interactor of POST/PUT/PATCH bodies: the same bounds as a custom checker's. */
export const interactorInputSchema = interactorSchema
  .extend({
    language: languageInputSchema,
    source: z.string().min(1).max(CHECKER_LIMITS.sourceBytes),
    files: z.array(checkerFileSchema).max(CHECKER_LIMITS.files).optional(),
  })
  .superRefine((interactor, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
    if (!(CHECKER_LANGUAGES as readonly string[]).includes(interactor.language)) {
      issue("language", `an interactor can be written in ${CHECKER_LANGUAGES.join(", ")}`);
    }
    const files = interactor.files ?? [];
    if (new Set(files.map((file) => file.name)).size !== files.length) issue("files", "file names must be unique");
    if (files.some((file) => /^main(\.|$)/i.test(file.name))) issue("files", "names main and main.* are the interactor's own (its source and build)");
    const bytes = files.reduce((sum, file) => sum + utf8Length(file.content), 0);
    if (bytes > CHECKER_LIMITS.filesBytes) issue("files", `files may hold at most ${CHECKER_LIMITS.filesBytes} bytes together`);
  });

/** What a non-admin may know of an interactor: that the problem is interactive, and how it talks. */
export function publicInteractor(interactor: Pick<Interactor, "protocol">): { protocol: CheckerProtocol } {
  return { protocol: interactor.protocol ?? "testlib" };
}

/** The interactor as the judge builds it: it is built and cached exactly as a custom checker is. */
export function interactorAsChecker(interactor: Interactor): Checker {
  return { type: "custom", protocol: interactor.protocol ?? "testlib", language: interactor.language, source: interactor.source, ...(interactor.files ? { files: interactor.files } : {}) };
}
