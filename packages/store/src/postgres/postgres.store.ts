import { AppError } from "@sonocode/errors";
import type { StoreAdapter } from "../ports.js";
import { runMigrations } from "./migrations.js";
import { PostgresProblems } from "./problems.repo.js";
import { PostgresRuns } from "./runs.repo.js";
import { PostgresRejudges } from "./rejudge.repo.js";
import { PostgresRejudgeRequests } from "./rejudge-requests.repo.js";
import { PostgresSubmissions } from "./submissions.repo.js";
import type { SqlClient, SqlExecutor } from "./sql-client.js";

/**
 * SQLSTATEs PostgreSQL raises for text it cannot store: a NUL character in text
 * (22021) or jsonb (22P05), and an unpaired UTF-16 surrogate escape in jsonb (22P02;
 * the only casts of client data in these queries are to jsonb).
 */
const UNSTORABLE_TEXT_ERRORS = new Set(["22021", "22P05", "22P02"]);

/**
 * PostgreSQL text and jsonb cannot hold U+0000 (nor jsonb a lone surrogate), which the contracts' strings
 * allow. Such input is the client's fault, so it becomes a 400 with a clear
 * message instead of an opaque 500 (MongoDB stores it as is).
 */
function withInputErrors(db: SqlExecutor): SqlExecutor {
  return {
    query: async <R extends object>(text: string, params?: readonly unknown[]) => {
      try {
        return await db.query<R>(text, params);
      } catch (error) {
        const code = (error as { code?: unknown } | null)?.code;
        if (typeof code === "string" && UNSTORABLE_TEXT_ERRORS.has(code)) {
          throw new AppError("VALIDATION_FAILED", "text must not contain NUL (\\u0000) characters or unpaired surrogates", { cause: error });
        }
        throw error;
      }
    },
  };
}

/** A store adapter over PGlite or a PostgreSQL server. Migrates before returning; closes the client if that fails. */
export async function createPostgresStore(client: SqlClient): Promise<StoreAdapter> {
  try {
    await runMigrations(client);
  } catch (error) {
    await client.close().catch(() => {});
    throw error;
  }
  const db = withInputErrors(client);
  const problems = new PostgresProblems(db);
  const submissions = new PostgresSubmissions(db);
  return {
    kind: client.dialect,
    problems,
    submissions,
    runs: new PostgresRuns(db),
    rejudges: new PostgresRejudges(db),
    rejudgeRequests: new PostgresRejudgeRequests(db),
    ping: async () => {
      await client.query("SELECT 1");
    },
    close: () => client.close(),
  };
}
