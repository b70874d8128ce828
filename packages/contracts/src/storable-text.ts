// The one storable-text rule: every text the judge returns (program output, compiler
// output, messages, failedTest fields) crosses it before anything else sees it.
// PostgreSQL and PGlite refuse U+0000 in text and jsonb (22P05 / 22021) and lone UTF-16
// surrogates in JSON (22P02); MongoDB stores what it gets. A text that passes
// isStorableText() is accepted by every store adapter.

/** What a NUL byte becomes: the visible SYMBOL FOR NULL. */
export const NUL_SYMBOL = "\u2400";
/** What an undecodable byte or a lone surrogate becomes. */
export const REPLACEMENT_CHARACTER = "\uFFFD";

// Linear (no quantifier, no backtracking): a NUL, a high surrogate not followed by a low
// one, or a low surrogate not preceded by a high one.
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when every store accepts the text as it is: well-formed UTF-16, no NUL. */
export function isStorableText(text: string): boolean {
  return !UNSTORABLE.test(text);
}

export interface StorableTextOptions {
  /** Keep at most this many code points of the source (default: all). */
  maxCodePoints?: number;
  /** Appended after a cut (default: how much was left out). */
  truncatedNote?: (cut: TextCut) => string;
}

/** What a cut left out: code points for string input, the whole size for bytes (whose tail is never decoded). */
export type TextCut = { readonly omittedCodePoints: number } | { readonly totalBytes: number };

function defaultNote(cut: TextCut): string {
  return "omittedCodePoints" in cut ? `\n… (truncated, ${cut.omittedCodePoints} more characters)` : `\n… (truncated, ${cut.totalBytes} bytes in all)`;
}

/**
 * Bytes or a string → storable text: UTF-8 decoded with replacement (never throws), NUL made
 * visible as U+2400, lone surrogates replaced, cut by code points (a surrogate pair is never
 * split) and capped. Only the head a cap can keep is decoded, so a 64 MiB output costs no more
 * than the cap.
 */
export function storableText(input: Uint8Array | string, options: StorableTextOptions = {}): string {
  const max = options.maxCodePoints ?? Number.POSITIVE_INFINITY;
  const note = options.truncatedNote ?? defaultNote;
  let source: string;
  // -1: a string longer than its head; for bytes, how many were never decoded.
  let rest = 0;
  if (typeof input === "string") {
    // Two UTF-16 units at most per code point: nothing past 2 * max (+1 for a pair) can be kept.
    const head = Number.isFinite(max) && input.length > 2 * max + 2 ? 2 * max + 2 : input.length;
    source = input.slice(0, head);
    if (head < input.length) rest = -1;
  } else {
    const bytes = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    // Four bytes at most per code point, and an invalid byte decodes to one U+FFFD, so the
    // first 4 * max + 4 bytes hold more than max code points: a sequence cut at the end of
    // this head lands past the cap.
    const head = Number.isFinite(max) && bytes.length > 4 * max + 4 ? 4 * max + 4 : bytes.length;
    source = bytes.toString("utf8", 0, head);
    rest = bytes.length - head;
  }
  let out = "";
  let kept = 0;
  let chunkStart = 0;
  let i = 0;
  for (; i < source.length; i++) {
    if (kept >= max) break;
    const unit = source.charCodeAt(i);
    kept++;
    if (unit === 0) {
      out += source.slice(chunkStart, i) + NUL_SYMBOL;
      chunkStart = i + 1;
    } else if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = source.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
      else {
        out += source.slice(chunkStart, i) + REPLACEMENT_CHARACTER;
        chunkStart = i + 1;
      }
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      out += source.slice(chunkStart, i) + REPLACEMENT_CHARACTER;
      chunkStart = i + 1;
    }
  }
  out += source.slice(chunkStart, i);
  if (i >= source.length && rest === 0) return out;
  if (typeof input !== "string") return out + note({ totalBytes: input.byteLength });
  // The code points left in the head, plus those past it.
  return out + note({ omittedCodePoints: countCodePoints(source, i) + (rest === -1 ? countCodePoints(input, source.length) : 0) });
}

function countCodePoints(text: string, from: number): number {
  let n = 0;
  for (let j = from; j < text.length; j++) {
    const unit = text.charCodeAt(j);
    // The low half of a pair is the same code point as the high half before it.
    if (unit >= 0xdc00 && unit <= 0xdfff && j > 0 && (text.charCodeAt(j - 1) & 0xfc00) === 0xd800) continue;
    n++;
  }
  return n;
}
