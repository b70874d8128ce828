// Output checkers over bytes. Pure, linear in the size of both outputs, and
// allocation-free however the output is shaped: no regex runs on program output
// (a backtracking one took ~47 s on one line of spaces), nothing is split into arrays
// (60 MiB of newlines once cost ~2 GB of heap), and every comparison of a range is a
// native Buffer.compare. Whitespace is ASCII (space, \t, \n, \v, \f, \r), as in testlib.
// They run in a worker thread (check-pool.ts), never on the event loop that serves HTTP.
import type { Checker } from "@sonocode/contracts";

/** Default tolerance of the float checker when the problem sets none. */
export const DEFAULT_FLOAT_EPSILON = 1e-6;
/**
 * A number token longer than this is compared byte for byte only: a real answer never needs
 * it, and parsing one would copy a program's 64 MiB digit string into the heap.
 */
export const MAX_NUMBER_TOKEN_BYTES = 1024;

type Bytes = Uint8Array;

const LF = 0x0a;
const lower = (byte: number) => (byte >= 0x41 && byte <= 0x5a ? byte + 0x20 : byte);
const CR = 0x0d;

function asBytes(text: string | Bytes): Buffer {
  return typeof text === "string" ? Buffer.from(text, "utf8") : Buffer.from(text.buffer, text.byteOffset, text.byteLength);
}

/** Trailing whitespace of a line: space, \t, \v, \f (CR and LF end lines). */
function isLineBlank(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0b || byte === 0x0c;
}

function isSpace(byte: number): boolean {
  return byte === 0x20 || (byte >= 0x09 && byte <= 0x0d);
}

/**
 * Lines of a buffer, one at a time: CRLF, CR and LF all end a line, and a line's range
 * excludes its trailing whitespace. The next LF and CR positions are each found once
 * (native indexOf) and reused until passed, so a walk over the whole buffer is linear.
 */
class LineCursor {
  private pos = 0;
  private nextLf = -2;
  private nextCr = -2;
  /** Current line: [start, end) after trimming. */
  start = 0;
  end = 0;

  constructor(private readonly buf: Buffer) {}

  get done(): boolean {
    return this.pos > this.buf.length;
  }

  /** True when everything from the current position on is whitespace or line breaks (only blank lines left). */
  restIsBlank(): boolean {
    const buf = this.buf;
    for (let i = this.pos; i < buf.length; i++) if (!isSpace(buf[i]!)) return false;
    return true;
  }

  /** Advances to the next line; false once past the end. */
  next(): boolean {
    const buf = this.buf;
    if (this.pos > buf.length) return false;
    const from = this.pos;
    if (this.nextLf !== -1 && this.nextLf < from) this.nextLf = buf.indexOf(LF, from);
    if (this.nextCr !== -1 && this.nextCr < from) this.nextCr = buf.indexOf(CR, from);
    const lf = this.nextLf === -1 ? buf.length : this.nextLf;
    const cr = this.nextCr === -1 ? buf.length : this.nextCr;
    let stop = Math.min(lf, cr);
    this.start = from;
    let end = stop;
    while (end > from && isLineBlank(buf[end - 1]!)) end--;
    this.end = end;
    if (stop === buf.length) {
      this.pos = buf.length + 1;
    } else {
      // CRLF is one line break.
      if (stop === cr && cr + 1 === lf) stop++;
      this.pos = stop + 1;
    }
    return true;
  }
}

/**
 * Line by line: CRLF/CR equal LF, trailing whitespace of each line and trailing blank lines are
 * ignored; leading and inner whitespace, inner blank lines and case are significant.
 */
export function checkExact(expected: string | Bytes, actual: string | Bytes): boolean {
  const e = asBytes(expected);
  const a = asBytes(actual);
  const ec = new LineCursor(e);
  const ac = new LineCursor(a);
  for (;;) {
    // A side that ran out reads as blank lines forever: equal iff the other has only blank lines left.
    if (ec.done) return ac.restIsBlank();
    if (ac.done) return ec.restIsBlank();
    ec.next();
    ac.next();
    if (ec.end - ec.start !== ac.end - ac.start) return false;
    if (e.compare(a, ac.start, ac.end, ec.start, ec.end) !== 0) return false;
  }
}

/** Whitespace-separated tokens of a buffer, one at a time. */
class TokenCursor {
  private pos = 0;
  start = 0;
  end = 0;

  constructor(readonly buf: Buffer) {}

  next(): boolean {
    const buf = this.buf;
    let i = this.pos;
    while (i < buf.length && isSpace(buf[i]!)) i++;
    if (i >= buf.length) {
      this.pos = i;
      return false;
    }
    const start = i;
    while (i < buf.length && !isSpace(buf[i]!)) i++;
    this.start = start;
    this.end = i;
    this.pos = i;
    return true;
  }

  get length(): number {
    return this.end - this.start;
  }

  equals(other: TokenCursor): boolean {
    return this.length === other.length && this.buf.compare(other.buf, other.start, other.end, this.start, this.end) === 0;
  }

  /** Equal with ASCII letters folded (Kattis' default validator is case-insensitive). */
  equalsIgnoringCase(other: TokenCursor): boolean {
    if (this.length !== other.length) return false;
    for (let i = 0; i < this.length; i++) if (lower(this.buf[this.start + i]!) !== lower(other.buf[other.start + i]!)) return false;
    return true;
  }

  matches(other: TokenCursor, caseSensitive: boolean): boolean {
    return caseSensitive ? this.equals(other) : this.equalsIgnoringCase(other);
  }
}

/** Token by token, exactly (or with ASCII case folded); any amount and kind of whitespace between tokens. */
export function checkTokens(expected: string | Bytes, actual: string | Bytes, caseSensitive = true): boolean {
  const ec = new TokenCursor(asBytes(expected));
  const ac = new TokenCursor(asBytes(actual));
  for (;;) {
    const more = ec.next();
    if (more !== ac.next()) return false;
    if (!more) return true;
    if (!ec.matches(ac, caseSensitive)) return false;
  }
}

/** Case-insensitive match of buf[start, end) against an ASCII word in lower case. */
function isWord(buf: Buffer, start: number, end: number, word: string): boolean {
  if (end - start !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (lower(buf[start + i]!) !== word.charCodeAt(i)) return false;
  return true;
}

const isDigit = (byte: number) => byte >= 0x30 && byte <= 0x39;

/**
 * Strict number syntax, one linear pass: [+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?,
 * or [+-]? inf / infinity. Number("") is 0 and Number("0x10") is 16: neither is a float token.
 */
function parseNumber(buf: Buffer, start: number, end: number): number | null {
  let i = start;
  let negative = false;
  if (i < end && (buf[i] === 0x2b || buf[i] === 0x2d)) {
    negative = buf[i] === 0x2d;
    i++;
  }
  if (isWord(buf, i, end, "inf") || isWord(buf, i, end, "infinity")) return negative ? -Infinity : Infinity;
  if (end - start > MAX_NUMBER_TOKEN_BYTES) return null;
  let intDigits = 0;
  while (i < end && isDigit(buf[i]!)) {
    i++;
    intDigits++;
  }
  let fracDigits = 0;
  if (i < end && buf[i] === 0x2e) {
    i++;
    while (i < end && isDigit(buf[i]!)) {
      i++;
      fracDigits++;
    }
  }
  if (intDigits === 0 && fracDigits === 0) return null;
  if (i < end && (buf[i] === 0x65 || buf[i] === 0x45)) {
    i++;
    if (i < end && (buf[i] === 0x2b || buf[i] === 0x2d)) i++;
    let expDigits = 0;
    while (i < end && isDigit(buf[i]!)) {
      i++;
      expDigits++;
    }
    if (expDigits === 0) return null;
  }
  if (i !== end) return null;
  return Number(buf.toString("latin1", start, end));
}

/** Equal within an absolute or relative epsilon, whichever is looser. NaN never equals anything. */
export function floatsEqual(expected: number, actual: number, epsilon: number): boolean {
  if (Number.isNaN(expected) || Number.isNaN(actual)) return false;
  if (!Number.isFinite(expected) || !Number.isFinite(actual)) return expected === actual;
  const diff = Math.abs(expected - actual);
  return diff <= epsilon || diff <= epsilon * Math.abs(expected);
}

function isNanToken(buf: Buffer, start: number, end: number): boolean {
  const signed = end > start && (buf[start] === 0x2b || buf[start] === 0x2d);
  return isWord(buf, signed ? start + 1 : start, end, "nan");
}

/** Token-wise: numeric tokens compare with tolerance, anything else exactly ("nan" is never equal). */
export function checkFloat(expected: string | Bytes, actual: string | Bytes, epsilon = DEFAULT_FLOAT_EPSILON, caseSensitive = true): boolean {
  const ec = new TokenCursor(asBytes(expected));
  const ac = new TokenCursor(asBytes(actual));
  for (;;) {
    const more = ec.next();
    if (more !== ac.next()) return false;
    if (!more) return true;
    const en = parseNumber(ec.buf, ec.start, ec.end);
    if (en === null) {
      if (isNanToken(ec.buf, ec.start, ec.end) || !ec.matches(ac, caseSensitive)) return false;
      continue;
    }
    // Byte-identical numbers are equal (and a number too long to parse may still be identical).
    if (ec.equals(ac)) continue;
    const an = parseNumber(ac.buf, ac.start, ac.end);
    if (an === null || !floatsEqual(en, an, epsilon)) return false;
  }
}

/** A built-in checker's decision. A custom checker runs in the sandbox (custom-checker.ts), never here. */
export function checkOutput(checker: Checker, expected: string | Bytes, actual: string | Bytes): boolean {
  const caseSensitive = checker.caseSensitive !== false;
  switch (checker.type) {
    case "exact":
      // Never folded: the contracts refuse caseSensitive: false for exact, and a request that slips through is judged strictly.
      return checkExact(expected, actual);
    case "tokens":
      return checkTokens(expected, actual, caseSensitive);
    case "float":
      return checkFloat(expected, actual, checker.epsilon ?? DEFAULT_FLOAT_EPSILON, caseSensitive);
    case "custom":
      throw new Error("a custom checker is not a built-in one: it runs in the sandbox");
  }
}
