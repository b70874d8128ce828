// Engine-level tests read outcomes as text plus the core's limit decision: RunOutcome
// carries raw bytes and facts only, and classifyRun() is the one place that decides.
import type { LimitHit, RunOutcome, RunSpec, SandboxSession } from "../src/sandbox/sandbox.js";
import { classifyRun } from "../src/verdict.js";

export interface TextOutcome extends Omit<RunOutcome, "stdout" | "stderr"> {
  stdout: string;
  stderr: string;
  /** classifyRun(outcome, spec.limits): what the judge core makes of these facts. */
  limit: LimitHit;
}

export interface TextSession {
  writeFile(name: string, content: string): Promise<void>;
  run(spec: RunSpec): Promise<TextOutcome>;
  dispose(): Promise<void>;
}

export function asText(outcome: RunOutcome, spec: RunSpec): TextOutcome {
  return { ...outcome, stdout: outcome.stdout.toString("utf8"), stderr: outcome.stderr.toString("utf8"), limit: classifyRun(outcome, spec.limits) };
}

export function textSession(session: SandboxSession): TextSession {
  return {
    writeFile: (name, content) => session.writeFile(name, content),
    run: async (spec) => asText(await session.run(spec), spec),
    dispose: () => session.dispose(),
  };
}
