// Started by bwrap.userns.test.ts as an unprivileged user with no subordinate ids: the
// engine's first session must be refused with the typed error. Prints what it got as JSON.
import { createBwrapEngine } from "../src/index.js";
import { UserNamespaceUnavailableError } from "../src/engines/bwrap/userns.js";

const engine = createBwrapEngine({ workRoot: process.argv[2] });
try {
  await engine.check();
  console.log(JSON.stringify({ name: "none", message: "the engine started" }));
} catch (error) {
  const reason = error instanceof UserNamespaceUnavailableError ? error.reason : undefined;
  console.log(JSON.stringify({ name: (error as Error).name, reason, message: (error as Error).message }));
} finally {
  await engine.close();
}
