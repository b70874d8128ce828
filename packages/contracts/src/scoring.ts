import { z } from "zod";
import { FINAL_STATUSES } from "./statuses.js";

/**
 * A subtask's outcome in a verdict. `status`: `Success` when every test of the group passed
 * in full, the verdict of its first failing test otherwise (a partial-credit answer is `WA`),
 * `CE` when nothing ran, and `Skipped` when a group it depends on did not pass (its tests
 * were not run and have no entry in `results`).
 */
export const GROUP_STATUSES = [...FINAL_STATUSES, "Skipped"] as const;
export const groupResultSchema = z.object({
  name: z.string(),
  points: z.number().min(0),
  /** points × the lowest test score of the group (1 for an accepted test, 0 for a rejected one, a checker's partial credit in between); 0 when skipped. */
  earned: z.number().min(0),
  status: z.enum(GROUP_STATUSES),
}).describe("A subtask's outcome: earned = points × the lowest test score in it; status Success, the verdict of its first failing test, Skipped (a dependency did not pass: its tests were not run) or CE");
export type GroupResult = z.infer<typeof groupResultSchema>;

/** Scores and points are kept to two decimals: points × a checker's score would otherwise print 33.333333333333336. */
export function roundScore(value: number): number {
  return Math.round(value * 100) / 100;
}

/**
 * "Beats x %" of GET /api/v1/submissions/:id for an accepted submission: the share (0-100,
 * one decimal) of the other accepted submissions of the same problem and language that took
 * more CPU time / more memory. 100 when it is the only accepted one.
 */
export const percentileSchema = z.object({
  timeMs: z.number().min(0).max(100),
  memoryKb: z.number().min(0).max(100),
}).describe("Share (0-100) of the other accepted submissions of the same problem and language that used more CPU time / more memory; 100 when it is the only one");
export type Percentile = z.infer<typeof percentileSchema>;

/** What the store counts for a percentile: the other accepted submissions, and how many of them were slower / heavier. */
export interface AcceptedComparison {
  others: number;
  slower: number;
  moreMemory: number;
}

function share(part: number, whole: number): number {
  return whole === 0 ? 100 : Math.round((1000 * part) / whole) / 10;
}

export function percentileOf(comparison: AcceptedComparison): Percentile {
  return { timeMs: share(comparison.slower, comparison.others), memoryKb: share(comparison.moreMemory, comparison.others) };
}

/**
 * On every problem read: judged submissions (every final status but IE, which is the
 * platform's failure, not an attempt that was judged), accepted ones, and the acceptance
 * rate in percent (one decimal; 0 when nothing was judged). Runs never count.
 */
export const problemStatsSchema = z.object({
  submissions: z.number().int().min(0),
  accepted: z.number().int().min(0),
  acceptanceRate: z.number().min(0).max(100),
}).describe("Judged submissions (every final status but IE), accepted ones, and accepted / judged in percent (one decimal)");
export type ProblemStats = z.infer<typeof problemStatsSchema>;

export function problemStats(submissions: number, accepted: number): ProblemStats {
  return { submissions, accepted, acceptanceRate: submissions === 0 ? 0 : Math.round((1000 * accepted) / submissions) / 10 };
}
