import { AppError } from "@sonocode/errors";

/**
 * A rejudge request that found none marking its problem, yet could not insert one, three times
 * (the problem's rejudges kept starting and ending under it): a 409 with Retry-After, since
 * asking again succeeds; never a plain Error (a 500), nor DATABASE_UNAVAILABLE (the database
 * answered: nothing here is an outage for the health checks to count).
 */
export function rejudgeContended(problemId: string): AppError {
  return new AppError("CONFLICT", `rejudge of problem ${problemId}: neither recorded nor found marking after 3 attempts; try again`, { retryAfterSeconds: 1 });
}
