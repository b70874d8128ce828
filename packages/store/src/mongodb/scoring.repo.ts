// Scores, problem statistics and percentiles on MongoDB (the fields PostgreSQL's migration 6
// adds). MongoDB updates one document atomically, so the problem's counters move in a second
// write right after the applied finalize: a crash between the two loses that one count (never
// counts twice: the counted status is written with the verdict).
import type { AcceptedComparison, FinalStatus, Language } from "@sonocode/contracts";
import type { Collection, Db, Document, ObjectId } from "mongodb";

/** What a status adds to a problem's { submissions, accepted }: IE (the platform's failure) and none count nothing. */
function counts(status: FinalStatus | null | undefined): { submissions: number; accepted: number } {
  if (status === null || status === undefined || status === "IE") return { submissions: 0, accepted: 0 };
  return { submissions: 1, accepted: status === "Success" ? 1 : 0 };
}

/**
 * Moves a problem's counters from what a submission was counted as (`statsStatus` before this
 * finalize; a rejudge leaves it alone) to its new final status; nothing when they count alike.
 */
export async function moveProblemStats(
  problems: Collection<Document>,
  problemId: ObjectId,
  counted: FinalStatus | null | undefined,
  status: FinalStatus,
): Promise<void> {
  const before = counts(counted);
  const after = counts(status);
  const submissions = after.submissions - before.submissions;
  const accepted = after.accepted - before.accepted;
  if (submissions === 0 && accepted === 0) return;
  await problems.updateOne({ _id: problemId }, { $inc: { "stats.submissions": submissions, "stats.accepted": accepted } });
}

/** The percentile's counts: `of` is itself accepted (neither slower nor heavier than itself), so it is taken off the total. */
export async function acceptedComparison(
  countDocuments: (filter: Document) => Promise<number>,
  of: { problemId: ObjectId; language: Language; timeMs: number; memoryKb: number },
): Promise<AcceptedComparison> {
  const accepted = { problemId: of.problemId, language: of.language, status: "Success" };
  const [total, slower, moreMemory] = await Promise.all([
    countDocuments(accepted),
    countDocuments({ ...accepted, timeMs: { $gt: of.timeMs } }),
    countDocuments({ ...accepted, memoryKb: { $gt: of.memoryKb } }),
  ]);
  return { others: Math.max(0, total - 1), slower, moreMemory };
}

/** The percentile's range counts, each served by one index (partial: accepted submissions only). */
export async function ensureScoringIndexes(db: Db): Promise<void> {
  await db.collection("submissions").createIndexes([
    { key: { problemId: 1, language: 1, timeMs: 1 }, name: "accepted_time", partialFilterExpression: { status: "Success" } },
    { key: { problemId: 1, language: 1, memoryKb: 1 }, name: "accepted_memory", partialFilterExpression: { status: "Success" } },
  ]);
}
