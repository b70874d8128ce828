import type { Logger } from "@sonocode/logger";
import type { Store } from "@sonocode/store";
import { SEED_PROBLEMS } from "./seed.data.js";

/** Seeds the sample problems once: only into an empty problem store. */
export async function seedProblems(store: Store, logger: Logger): Promise<number> {
  const existing = await store.problems.list({ page: 1, limit: 1 });
  if (existing.total > 0) return 0;
  for (const problem of SEED_PROBLEMS) await store.problems.create(problem);
  logger.info({ count: SEED_PROBLEMS.length }, "seeded sample problems");
  return SEED_PROBLEMS.length;
}
