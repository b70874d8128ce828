// Per-language judge time: one accepted A+B submission per language through the real
// judge (compile + 10 tests, and compile + 1 test), on one or more runtimes, interleaved
// round by round so that both sides of a before/after pair see the same host load.
//
//   npx tsx packages/judge/bench/languages.bench.ts                       # the default rootfs, bwrap
//   BENCH_TARGETS=bwrap:/var/lib/sonocode/runtime/rootfs,bwrap:/var/lib/sonocode/runtime-x/rootfs \
//     BENCH_ROUNDS=5 BENCH_LANGS=JAVA,GO,CPP-BITS npx tsx packages/judge/bench/languages.bench.ts
//   BENCH_TARGETS=docker:sonocode-runtime:latest,docker:sonocode-runtime:<hash> ...
//
// Prints the median (and min) milliseconds per submission for each target, the median CPU
// time its tests reported (their sum: the kernel's figure, which a loaded host stretches far
// less than wall time; compile time is not in it), and the ratio of every target to the first.
import { loadavg } from "node:os";
import { LANGUAGES, type JudgeRequest, type Language } from "@sonocode/contracts";
import { createJudge, DEFAULT_DOCKER_IMAGE, DEFAULT_ROOTFS, type Judge } from "../src/index.js";
import { PROGRAMS } from "../test/solutions.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const TARGETS = (process.env.BENCH_TARGETS ?? `bwrap:${DEFAULT_ROOTFS}`).split(",").filter(Boolean);
const TESTS_10 = Array.from({ length: 10 }, (_, i) => ({ input: `${i} ${i * 7}\n`, output: `${i * 8}\n` }));

interface Case {
  name: string;
  language: Language;
  source: string;
}
// Every language's A+B, plus C++ through <bits/stdc++.h>, which most competitive C++ includes.
const ALL_CASES: Case[] = [
  ...LANGUAGES.map((language) => ({ name: language, language, source: PROGRAMS[language].ok })),
  {
    name: "CPP-BITS",
    language: "CPP",
    source: "#include <bits/stdc++.h>\nusing namespace std;\nint main(){long long a,b;cin>>a>>b;vector<long long> v{a,b};cout<<accumulate(v.begin(),v.end(),0LL)<<'\\n';}",
  },
];
const wanted = process.env.BENCH_LANGS?.split(",");
const CASES = wanted ? ALL_CASES.filter((c) => wanted.includes(c.name)) : ALL_CASES;
if (wanted && CASES.length !== wanted.length) throw new Error(`BENCH_LANGS: known cases are ${ALL_CASES.map((c) => c.name).join(",")}`);

function open(target: string): Promise<Judge> {
  const [engine, ...rest] = target.split(":");
  const where = rest.join(":");
  if (engine === "bwrap") return createJudge({ engine: "bwrap", rootfs: where || DEFAULT_ROOTFS, maxConcurrency: 1 });
  if (engine === "docker") return createJudge({ engine: "docker", dockerImage: where || DEFAULT_DOCKER_IMAGE, maxConcurrency: 1 });
  throw new Error(`target ${target}: expected bwrap:<rootfs> or docker:<image>`);
}

interface Sample {
  /** Wall milliseconds of the whole submission. */
  ms: number;
  /** CPU milliseconds its tests reported, summed. */
  testsCpuMs: number;
}

/** One submission's figures, or null when it was not accepted (printed: a loaded host can push a compile past its limit). */
async function timed(judge: Judge, request: JudgeRequest, name: string): Promise<Sample | null> {
  const t0 = performance.now();
  const verdict = await judge.judge(request);
  const ms = performance.now() - t0;
  if (verdict.status === "Success") return { ms, testsCpuMs: verdict.results.reduce((sum, r) => sum + r.timeMs, 0) };
  console.log(`${name}: ${verdict.status} after ${ms.toFixed(0)} ms: ${verdict.message ?? ""}`);
  return null;
}

const kinds = { "x10": TESTS_10, "x1": TESTS_10.slice(0, 1) } as const;
type Kind = keyof typeof kinds;
const samples = new Map<string, Sample[]>();
const failures = new Map<string, number>();
const key = (target: string, name: string, kind: Kind) => `${target}|${name}|${kind}`;

console.log(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
for (let round = 0; round < ROUNDS; round++) {
  for (const target of TARGETS) {
    const judge = await open(target);
    try {
      for (const c of CASES) {
        for (const [kind, tests] of Object.entries(kinds) as [Kind, typeof TESTS_10][]) {
          const sample = await timed(judge, { language: c.language, source: c.source, tests, timeLimitMs: 2000, memoryLimitMb: 256 }, c.name);
          // Round 0 warms the page cache of each runtime; it is not counted.
          if (round === 0 && ROUNDS > 1) continue;
          const k = key(target, c.name, kind);
          if (sample === null) failures.set(k, (failures.get(k) ?? 0) + 1);
          else (samples.get(k) ?? samples.set(k, []).get(k)!).push(sample);
        }
      }
    } finally {
      await judge.close();
    }
  }
}
console.log(`load average at end: ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const cell = (xs: Sample[], failed: number) => {
  const wall = xs.map((x) => x.ms);
  const figures = xs.length > 0 ? `${median(wall).toFixed(0)} (min ${Math.min(...wall).toFixed(0)}), tests cpu ${median(xs.map((x) => x.testsCpuMs))}` : "-";
  return `${figures}${failed > 0 ? ` [${failed} not accepted]` : ""}`;
};
TARGETS.forEach((t, i) => console.log(`target ${i}: ${t}`));
console.log(["language", "tests", ...TARGETS.map((_, i) => `target ${i} ms median (min), tests cpu`), ...TARGETS.slice(1).map((_, i) => `ratio ${i + 1}/0`)].join(" | "));
for (const c of CASES) {
  for (const kind of Object.keys(kinds) as Kind[]) {
    const rows = TARGETS.map((t) => samples.get(key(t, c.name, kind)) ?? []);
    const base = rows[0]!.length > 0 ? median(rows[0]!.map((x) => x.ms)) : NaN;
    const failed = TARGETS.map((t) => failures.get(key(t, c.name, kind)) ?? 0);
    const ratios = rows.slice(1).map((r) => (r.length > 0 ? median(r.map((x) => x.ms)) / base : NaN).toFixed(2));
    console.log([c.name, kind, ...rows.map((r, i) => cell(r, failed[i]!)), ...ratios].join(" | "));
  }
}
