import { isSandboxError, SandboxError, type Judge } from "@sonocode/judge";
import type { EvaluatorJudge } from "./judge.port.js";

export interface DeferredJudge extends EvaluatorJudge {
  run: Judge["run"];
  close(): Promise<void>;
}

/**
 * A judge created on first use and again after every failed creation, so an evaluator whose
 * sandbox cannot start (rootfs missing, dockerd down) still starts: it answers /health with the
 * reason, takes no jobs (its start-up self-test fails, see createEvaluatorWorker), and joins in
 * on its own once a periodic self-test can create the judge. A crash loop would say less and
 * restart the whole process for what is often a volume that mounts a minute later.
 */
export function createDeferredJudge(create: () => Promise<Judge>, configuredEngine: string): DeferredJudge {
  let created: Judge | undefined;
  let creating: Promise<Judge> | undefined;
  let closed = false;

  function ready(): Promise<Judge> {
    if (closed) return Promise.reject(new SandboxError("the judge is closed"));
    if (created) return Promise.resolve(created);
    creating ??= create().then(
      (judge) => {
        creating = undefined;
        if (closed) {
          void judge.close();
          throw new SandboxError("the judge is closed");
        }
        created = judge;
        return judge;
      },
      (error: unknown) => {
        creating = undefined;
        // Any creation failure is the engine's: the submission had nothing to do with it.
        throw isSandboxError(error) ? error : new SandboxError(`the sandbox engine could not start: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      },
    );
    return creating;
  }

  return {
    get engine() {
      return created?.engine ?? configuredEngine;
    },
    async judge(request, options) {
      return (await ready()).judge(request, options);
    },
    async run(request, options) {
      return (await ready()).run(request, options);
    },
    async selfTest() {
      await (await ready()).selfTest();
    },
    async close() {
      closed = true;
      await creating?.catch(() => undefined);
      await created?.close();
    },
  };
}
