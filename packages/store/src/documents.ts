import { problemSchema, submissionSchema, type Problem, type Submission } from "@sonocode/contracts";

/**
 * Every document leaving the store is re-parsed with the contracts' schemas, so
 * a row written by an older version (or edited by hand) fails loudly here rather
 * than deep inside a service. Adapters hand over plain objects with `null` for
 * absent optional columns; those keys are dropped first because the contracts
 * model them as optional, not nullable.
 */
const OPTIONAL_PROBLEM_KEYS = ["editorial", "timeLimitMs", "memoryLimitMb", "checker", "runAllTests"] as const;

export function toProblem(raw: Record<string, unknown>): Problem {
  const copy: Record<string, unknown> = { ...raw };
  for (const key of OPTIONAL_PROBLEM_KEYS) if (copy[key] === null || copy[key] === undefined) delete copy[key];
  return problemSchema.parse(copy);
}

export function toSubmission(raw: Record<string, unknown>): Submission {
  return submissionSchema.parse(raw);
}

/** Dates leave the store as ISO strings; drivers may hand back Date or text. */
export function isoDate(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "string") return new Date(value).toISOString();
  throw new TypeError(`expected a timestamp, got ${typeof value}`);
}
