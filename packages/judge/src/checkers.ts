// Output checkers. Pure functions over (expected, actual): no I/O, easy to test.
import type { Checker } from "@sonocode/contracts";

/** Default tolerance of the float checker when the problem sets none. */
export const DEFAULT_FLOAT_EPSILON = 1e-6;

/** CRLF/CR -> LF, trailing whitespace per line dropped, trailing blank lines dropped. */
export function normalizeLines(text: string): string[] {
  const lines = text.replace(/\r\n?/g, "\n").split("\n").map((line) => line.replace(/[ \t\f\v]+$/, ""));
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

export function tokenize(text: string): string[] {
  const trimmed = text.trim();
  return trimmed === "" ? [] : trimmed.split(/\s+/);
}

export function checkExact(expected: string, actual: string): boolean {
  const a = normalizeLines(expected);
  const b = normalizeLines(actual);
  return a.length === b.length && a.every((line, i) => line === b[i]);
}

export function checkTokens(expected: string, actual: string): boolean {
  const a = tokenize(expected);
  const b = tokenize(actual);
  return a.length === b.length && a.every((token, i) => token === b[i]);
}

// A strict number syntax: Number("") is 0 and Number("0x10") is 16, neither is a float token.
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$|^[+-]?(?:inf|infinity)$/i;

function parseNumber(token: string): number | null {
  if (!NUMBER.test(token)) return null;
  const lower = token.toLowerCase().replace(/^\+/, "");
  if (lower === "inf" || lower === "infinity") return Infinity;
  if (lower === "-inf" || lower === "-infinity") return -Infinity;
  return Number(token);
}

/** Equal within an absolute or relative epsilon, whichever is looser. NaN never equals anything. */
export function floatsEqual(expected: number, actual: number, epsilon: number): boolean {
  if (Number.isNaN(expected) || Number.isNaN(actual)) return false;
  if (!Number.isFinite(expected) || !Number.isFinite(actual)) return expected === actual;
  const diff = Math.abs(expected - actual);
  return diff <= epsilon || diff <= epsilon * Math.abs(expected);
}

/** Token-wise: numeric tokens compare with tolerance, anything else exactly ("nan" is never numeric-equal). */
export function checkFloat(expected: string, actual: string, epsilon = DEFAULT_FLOAT_EPSILON): boolean {
  const a = tokenize(expected);
  const b = tokenize(actual);
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const e = a[i]!;
    const g = b[i]!;
    const en = parseNumber(e);
    if (en === null) {
      if (/^[+-]?nan$/i.test(e) || e !== g) return false;
      continue;
    }
    const gn = parseNumber(g);
    if (gn === null || !floatsEqual(en, gn, epsilon)) return false;
  }
  return true;
}

export function checkOutput(checker: Checker, expected: string, actual: string): boolean {
  switch (checker.type) {
    case "exact":
      return checkExact(expected, actual);
    case "tokens":
      return checkTokens(expected, actual);
    case "float":
      return checkFloat(expected, actual, checker.epsilon ?? DEFAULT_FLOAT_EPSILON);
  }
}
