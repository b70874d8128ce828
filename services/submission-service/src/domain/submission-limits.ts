/** Per-user caps on POST /api/v1/submissions (admins exempt); 0 turns one off. */
export interface SubmissionLimits {
  /** Submissions per user per minute (Redis-backed, shared by every replica). */
  perMinute: number;
  /** Non-final (Pending/Running) submissions per user at once. */
  maxInFlight: number;
}

/** Generous for a person, tight for a script: 30 a minute, 5 being judged at once. */
export const SUBMISSION_LIMIT_DEFAULTS: SubmissionLimits = { perMinute: 30, maxInFlight: 5 };
