// `bench:pipeline --cpu-prof DIR`: preloaded into every Node process of the platform through
// NODE_OPTIONS="--import <this file>" (Node 20 refuses --cpu-prof there, and the evaluator
// child is forked with execArgv of its own, but both inherit the environment). Profiles the
// whole process life and writes DIR/<title>-<pid>.cpuprofile at exit, for Chrome DevTools or
// scripts/bench/cpu-profile.summary.ts. An in-thread inspector session answers synchronously,
// so the profile is taken inside the exit handler.
import { Session } from "node:inspector";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.env.SONOCODE_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  // 1 ms sampling: fine enough for per-submission costs of a few milliseconds.
  session.post("Profiler.setSamplingInterval", { interval: 1000 });
  session.post("Profiler.start");
  process.once("exit", () => {
    session.post("Profiler.stop", (error, result) => {
      if (error || !result) return;
      const title = (process.title || "node").replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 40);
      writeFileSync(join(dir, `${title}-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
