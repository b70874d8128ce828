// Whether the docker-engine tests can run here. Without a daemon they skip with the
// reason, except under `npm test`, which starts dockerd itself and sets
// SONOCODE_REQUIRE_DOCKER=1: there a missing daemon is a failure, never a silent skip.
import type { SandboxEngine } from "../src/sandbox/sandbox.js";

export async function dockerSkipReason(engine: SandboxEngine): Promise<string | null> {
  const reason = await engine.check().then(
    () => null,
    (err: unknown) => `docker engine unavailable: ${err instanceof Error ? err.message : String(err)}`,
  );
  if (reason && process.env.SONOCODE_REQUIRE_DOCKER === "1") {
    throw new Error(`${reason} (SONOCODE_REQUIRE_DOCKER=1: the test command started dockerd, so this is a failure)`);
  }
  return reason;
}
