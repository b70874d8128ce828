// Preloaded into the launcher by api-loop.bench.ts (node --import): samples this process's event-loop
// delay, and on SIGUSR2 appends the window's percentiles (ms) as one JSON line to LOOP_PROBE_FILE,
// then starts a new window. Plain JS so it loads before (and without) tsx; it adds one timer.
import { appendFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";

const file = process.env.LOOP_PROBE_FILE;
if (file) {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  process.on("SIGUSR2", () => {
    const ms = (ns) => Math.round((ns / 1e6) * 10) / 10;
    const line = { pid: process.pid, p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max), samples: histogram.count };
    appendFileSync(file, `${JSON.stringify(line)}\n`);
    histogram.reset();
  });
}
