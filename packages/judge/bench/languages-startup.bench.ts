// A runtime's own start in each rootfs, natively (chroot, no sandbox, no judge): what every
// test of a script language pays before the program's first line. Interleaved run by run,
// so every rootfs sees the same host load. Needs root (chroot).
//
//   npx tsx packages/judge/bench/languages-startup.bench.ts                          # the default rootfs
//   BENCH_ROOTFS=/var/lib/sonocode/runtime/rootfs,/var/lib/sonocode/runtime-x/rootfs BENCH_RUNS=30 \
//     npx tsx packages/judge/bench/languages-startup.bench.ts
//
// Prints, per command and rootfs, the median (and min) wall milliseconds of one start and its
// CPU time (user + system, from the shell's `times` over a batch: a loaded host stretches
// wall time, CPU time much less).
import { spawnSync } from "node:child_process";
import { loadavg } from "node:os";
import { DEFAULT_ROOTFS } from "../src/index.js";

const ROOTFS = (process.env.BENCH_ROOTFS ?? DEFAULT_ROOTFS).split(",").filter(Boolean);
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const COMMANDS: Record<string, string[]> = {
  "node -e 0": ["/usr/bin/node", "-e", "0"],
  "python3 -B -c pass": ["/usr/bin/python3", "-B", "-c", "pass"],
};

function wallMs(rootfs: string, argv: string[]): number {
  const t0 = performance.now();
  const r = spawnSync("chroot", [rootfs, ...argv], { stdio: "ignore" });
  if (r.status !== 0) throw new Error(`chroot ${rootfs} ${argv.join(" ")}: exit ${r.status ?? r.signal}`);
  return performance.now() - t0;
}

/** CPU milliseconds per start: a batch of starts in one shell, whose `times` reports its children's user and system time. */
function cpuMs(rootfs: string, argv: string[]): number {
  // The rootfs and argv are positional parameters, never spliced into the script.
  const script = 'r=$1; n=$2; shift 2; for i in $(seq "$n"); do chroot "$r" "$@" >/dev/null 2>&1 </dev/null || exit 1; done; times';
  const r = spawnSync("bash", ["-c", script, "bench", rootfs, String(RUNS), ...argv], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`chroot ${rootfs} ${argv.join(" ")}: exit ${r.status ?? r.signal}`);
  // `times`: the shell's own user/system line, then its children's ("0m0.123s 0m0.045s").
  const children = r.stdout.trim().split("\n").at(-1)!.split(/\s+/);
  const seconds = (s: string) => {
    const m = /^(\d+)m([\d.]+)s$/.exec(s);
    if (!m) throw new Error(`unexpected times output: ${r.stdout}`);
    return Number(m[1]) * 60 + Number(m[2]);
  };
  return ((seconds(children[0]!) + seconds(children[1]!)) * 1000) / RUNS;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
console.log(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
const rows: string[] = [];
for (const [name, argv] of Object.entries(COMMANDS)) {
  const walls = ROOTFS.map(() => [] as number[]);
  for (const rootfs of ROOTFS) wallMs(rootfs, argv); // page cache warm-up, not counted
  for (let i = 0; i < RUNS; i++) ROOTFS.forEach((rootfs, j) => walls[j]!.push(wallMs(rootfs, argv)));
  const cpus = ROOTFS.map((rootfs) => cpuMs(rootfs, argv));
  ROOTFS.forEach((rootfs, j) =>
    rows.push([name, rootfs, `${median(walls[j]!).toFixed(1)} (min ${Math.min(...walls[j]!).toFixed(1)})`, cpus[j]!.toFixed(1)].join(" | ")),
  );
}
console.log(`load average at end: ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
console.log(`command | rootfs | wall ms median (min), ${RUNS} runs | cpu ms per start`);
for (const row of rows) console.log(row);
