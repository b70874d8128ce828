import { testSetContentHash } from "@sonocode/contracts/test-set-hash";
import type { SubmissionTestSet } from "@sonocode/contracts";
import type { TestSetCache, TestSetLease } from "./test-set.cache.js";
import { TestSetUnavailableError, type TestSetClient } from "./test-set.client.js";

/** The problem was deleted after the submission: nothing exists to judge against. */
export class TestSetGoneError extends Error {
  override name = "TestSetGoneError";
}

export interface ResolvedTestSet extends TestSetLease {
  /**
   * True when the problem's tests changed after the submission and the version it
   * named is no longer anywhere: the submission is judged against the current tests.
   */
  changed: boolean;
}

export interface TestSetProvider {
  /** The job's test set on local disk, leased until release(). */
  resolve(ref: SubmissionTestSet): Promise<ResolvedTestSet>;
}

/**
 * Cache first; on a miss, one fetch per hash at a time in this process, the body
 * verified against the hash before it is stored (a set stored under a hash is that
 * content, whoever served it). When the problem was edited after the POST and the
 * old version is not cached, the submission is judged against the current tests and
 * the verdict says so: the user gets a real verdict on the problem as it now stands
 * (what judges do on a rejudge), rather than an internal error for an admin's edit.
 */
export function createTestSetProvider(deps: { cache: TestSetCache; client: TestSetClient }): TestSetProvider {
  const inFlight = new Map<string, Promise<"stored" | { currentHash: string }>>();

  async function download(problemId: string, hash: string): Promise<"stored" | { currentHash: string }> {
    const fetched = await deps.client.fetch(problemId, hash);
    if (fetched.kind === "gone") throw new TestSetGoneError(`problem ${problemId} no longer exists`);
    if (fetched.kind === "changed") return { currentHash: fetched.currentHash };
    // The hash covers the checker and groups too: a served checker is the one the hash names.
    const actual = testSetContentHash(fetched.testSet);
    if (fetched.testSet.hash !== hash || actual !== hash) {
      throw new TestSetUnavailableError(`problem-service served test set ${actual} for ${hash}`);
    }
    await deps.cache.put(fetched.testSet);
    return "stored";
  }

  /** Fetches `hash` unless another job of this process is already fetching it (then shares its outcome). */
  function fetchOnce(problemId: string, hash: string): Promise<"stored" | { currentHash: string }> {
    let pending = inFlight.get(hash);
    if (!pending) {
      pending = download(problemId, hash).finally(() => inFlight.delete(hash));
      inFlight.set(hash, pending);
    }
    return pending;
  }

  async function leased(hash: string): Promise<TestSetLease> {
    const lease = await deps.cache.acquire(hash);
    // Stored a moment ago but already gone (evicted by a tiny cap): say so rather than loop.
    if (!lease) throw new TestSetUnavailableError(`test set ${hash} vanished from the cache right after it was stored`);
    return lease;
  }

  return {
    async resolve(ref) {
      const cached = await deps.cache.acquire(ref.hash);
      if (cached) return { ...cached, changed: false };
      const outcome = await fetchOnce(ref.problemId, ref.hash);
      if (outcome === "stored") return { ...(await leased(ref.hash)), changed: false };
      const current = await deps.cache.acquire(outcome.currentHash);
      if (current) return { ...current, changed: true };
      const again = await fetchOnce(ref.problemId, outcome.currentHash);
      if (again !== "stored") throw new TestSetUnavailableError(`problem ${ref.problemId} changed again while its tests were fetched`);
      return { ...(await leased(outcome.currentHash)), changed: true };
    },
  };
}
