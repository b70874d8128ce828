// How long an anonymous problem read takes when the problem carries megabytes of hidden tests:
// the old path (the whole row loaded and validated, then toPublicProblem) against the public
// view the store builds (findPublicById / listPublic). Both run in this one process on one
// in-memory PGlite store, over real HTTP through problem-service, so compare them as a ratio.
// Not a test: `npx tsx scripts/bench/public-problem-read.ts [tests=500] [kib=18] [rounds=10]`.
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { pino } from "pino";
import { toPublicProblem, type ProblemInput } from "@sonocode/contracts";
import { buildProblemApp } from "@sonocode/problem-service";
import { createStore, type ProblemRepository } from "@sonocode/store";

const [tests = 500, kib = 18, rounds = 10] = process.argv.slice(2).map(Number);
const CONCURRENT = 8;

function text(bytes: number): string {
  return randomBytes(Math.ceil((bytes * 3) / 4)).toString("base64").slice(0, bytes);
}

/** The repository as it read before: every public read is toPublicProblem of the full document. */
function oldPath(problems: ProblemRepository): ProblemRepository {
  return new Proxy(problems, {
    get(target, key, receiver) {
      if (key === "findPublicById") return async (id: string) => {
        const problem = await target.findById(id);
        return problem && toPublicProblem(problem);
      };
      if (key === "listPublic") return async (query: Parameters<ProblemRepository["list"]>[0]) => {
        const page = await target.list(query);
        return { items: page.items.map(toPublicProblem), total: page.total };
      };
      return Reflect.get(target, key, receiver);
    },
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const store = await createStore({ kind: "pglite", dataDir: null });
  const input: ProblemInput = {
    title: "Big",
    description: "Many large hidden tests.",
    difficulty: "hard",
    codeStubs: [],
    testCases: Array.from({ length: tests }, (_, i) => ({ input: text(kib * 512), output: text(kib * 512), hidden: i >= 5 })),
  };
  const { _id: id } = await store.problems.create(input);
  const logger = pino({ level: "silent" });
  const servers = await Promise.all(
    [["before", oldPath(store.problems)], ["after", store.problems]].map(async ([name, problems]) => {
      const app = buildProblemApp({ problems: problems as ProblemRepository, jwtSecret: "bench-secret-0123456789abcdef0123456789", logger });
      const server = await new Promise<import("node:http").Server>((resolve) => {
        const listening = app.listen(0, "127.0.0.1", () => resolve(listening));
      });
      return { name: name as string, server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
    }),
  );
  const get = async (url: string) => {
    const started = performance.now();
    const res = await fetch(url);
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
    return performance.now() - started;
  };
  console.log(`problem: ${tests} tests x ${kib} KiB (${((tests * kib) / 1024).toFixed(1)} MiB), 5 visible; ${rounds} rounds each`);
  for (const { name, base } of servers) {
    await get(`${base}/api/v1/problems/${id}`); // warm-up
    const one: number[] = [];
    const list: number[] = [];
    const concurrent: number[] = [];
    for (let round = 0; round < rounds; round++) {
      one.push(await get(`${base}/api/v1/problems/${id}`));
      list.push(await get(`${base}/api/v1/problems`));
      const started = performance.now();
      await Promise.all(Array.from({ length: CONCURRENT }, () => get(`${base}/api/v1/problems/${id}`)));
      concurrent.push(performance.now() - started);
    }
    const f = (ms: number) => `${ms.toFixed(1)} ms`;
    console.log(`${name.padEnd(6)} GET /problems/:id p50 ${f(median(one))}  GET /problems p50 ${f(median(list))}  ${CONCURRENT} concurrent GET /:id (all done) p50 ${f(median(concurrent))}`);
  }
  for (const { server } of servers) await new Promise((resolve) => server.close(resolve));
  await store.close();
}

await main();
