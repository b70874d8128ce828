import { z } from "zod";

/** Every language the judge supports. Stored uppercase; accepted case-insensitively. Do not rename: these values are stored in documents and carried in jobs. */
export const LANGUAGES = ["CPP", "C", "JAVA", "PYTHON", "JAVASCRIPT", "TYPESCRIPT", "GO", "RUST"] as const;
export type Language = (typeof LANGUAGES)[number];

export const languageSchema = z.enum(LANGUAGES);

/** Accepts any casing ("python", "Cpp") and yields the stored uppercase form. */
export const languageInputSchema = z
  .string()
  .trim()
  .transform((value) => value.toUpperCase())
  .pipe(z.enum(LANGUAGES, { error: () => `unsupported language; supported: ${LANGUAGES.join(", ")}` }));

export function isLanguage(value: string): value is Language {
  return (LANGUAGES as readonly string[]).includes(value.toUpperCase());
}
