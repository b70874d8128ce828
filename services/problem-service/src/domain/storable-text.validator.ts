import { AppError } from "@sonocode/errors";

/** A UTF-16 surrogate not part of a pair: valid in a JS string, not encodable as UTF-8. */
const LONE_SURROGATE = /\p{Cs}/u;
const NUL = "\u0000";

interface Offence {
  path: string;
  message: string;
}

function collect(value: unknown, path: (string | number)[], out: Offence[]): void {
  if (out.length >= 20) return;
  if (typeof value === "string") {
    if (value.includes(NUL)) out.push({ path: path.join("."), message: "must not contain NUL (\\u0000) characters" });
    else if (LONE_SURROGATE.test(value)) out.push({ path: path.join("."), message: "must be well-formed Unicode (lone surrogate)" });
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, index) => collect(item, [...path, index], out));
    return;
  }
  if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) collect(item, [...path, key], out);
  }
}

/**
 * JSON can carry "\u0000" and unpaired surrogates ("\ud800"), and the contracts'
 * strings accept them, but no store keeps them faithfully: PostgreSQL text/jsonb
 * reject them (jsonb with an error the store cannot tell from a real failure) and
 * UTF-8 encoders silently turn surrogates into U+FFFD, which would corrupt test data.
 * Refusing them here gives every adapter the same 400 with the offending paths.
 */
export function assertStorableText(value: unknown, where: string): void {
  const offences: Offence[] = [];
  collect(value, [], offences);
  if (offences.length > 0) {
    throw new AppError("VALIDATION_FAILED", `invalid ${where}`, { details: offences });
  }
}
