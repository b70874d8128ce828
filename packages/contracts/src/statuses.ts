import { z } from "zod";

/** Submission lifecycle. Do not rename: stored in documents and sent to clients (kept from the original system). */
export const SUBMISSION_STATUSES = ["Pending", "Running", "Success", "WA", "TLE", "MLE", "RE", "CE", "OLE", "IE"] as const;
export type SubmissionStatus = (typeof SUBMISSION_STATUSES)[number];
export const submissionStatusSchema = z.enum(SUBMISSION_STATUSES);

/** A final status never changes again: a replayed or late result must not regress it. */
export const FINAL_STATUSES = ["Success", "WA", "TLE", "MLE", "RE", "CE", "OLE", "IE"] as const;
export type FinalStatus = (typeof FINAL_STATUSES)[number];
export const finalStatusSchema = z.enum(FINAL_STATUSES);

export const ACTIVE_STATUSES = ["Pending", "Running"] as const;

export function isFinalStatus(status: SubmissionStatus): status is FinalStatus {
  return (FINAL_STATUSES as readonly string[]).includes(status);
}

/** Outcome of one test case run. CE and IE are submission-level, never per test. */
export const TEST_STATUSES = ["Success", "WA", "TLE", "MLE", "RE", "OLE"] as const;
export type TestStatus = (typeof TEST_STATUSES)[number];
export const testStatusSchema = z.enum(TEST_STATUSES);
