// CPU per accepted POST of the submission POST path, in this process (issue 9): the app as
// main.ts builds it (logger at info, JSON lines on stdout), PGlite in memory, a redis-server
// of its own, the problem cache in front of an in-process problem-service. Requests go in
// waves of --concurrency through Fastify's inject, so every run batches alike (one admission
// batch and the same Redis pipelines per wave) whatever the machine's load: an A/B figure for
// a shared machine, where ingest.bench.ts's POST/s mostly measure the neighbours. No HTTP
// parsing or socket writes are in it (ingest.bench.ts has those).
//
//   npx tsx services/submission-service/bench/post-path.bench.ts [--waves 150] [--concurrency 32] [--users 64] > /dev/null
//
// The result is one JSON line on stderr (stdout carries the app's logs).
import { createServer } from "node:http";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { signToken } from "@sonocode/auth";
import { listenHttp } from "@sonocode/lifecycle";
import { createLogger } from "@sonocode/logger";
import * as problemService from "@sonocode/problem-service";
import { createStore } from "@sonocode/store";
import * as submissionService from "@sonocode/submission-service";
import { startPrivateRedis } from "@sonocode/testkit";

const { values: args } = parseArgs({
  options: {
    waves: { type: "string", default: "150" },
    warmup: { type: "string", default: "20" },
    concurrency: { type: "string", default: "32" },
    users: { type: "string", default: "64" },
  },
});
const WAVES = Number(args.waves);
const CONCURRENCY = Number(args.concurrency);
const jwtSecret = `post-path-bench-${"x".repeat(32)}`;
const prefix = "post-path-bench";

const redis = await startPrivateRedis();
const logger = createLogger({ service: "submission-service", level: "info", pretty: false });
const store = await createStore({ kind: "pglite", dataDir: null });
// Feature-detected, as in api-only.server.ts, so the same script measures older checkouts.
const publisher =
  "connectProblemChangePublisher" in problemService ? await problemService.connectProblemChangePublisher({ redisUrl: redis.url, prefix, logger }) : undefined;
const problemServer = createServer(problemService.buildProblemApp({ problems: store.problems, jwtSecret, logger, ...(publisher ? { changes: publisher } : {}) }));
const { port } = await listenHttp(problemServer, 0, "127.0.0.1");
const direct = submissionService.createProblemClient({ baseUrl: `http://127.0.0.1:${port}`, jwtSecret });
const problems = "createProblemCache" in submissionService ? submissionService.createProblemCache({ source: direct, redisUrl: redis.url, prefix, logger }) : direct;
const queue = submissionService.createSubmissionQueue({ redisUrl: redis.url, prefix });
const app = await submissionService.buildSubmissionApp({
  store,
  problems,
  submissionQueue: queue.queue,
  jwtSecret,
  logger,
  // Raised so nothing is refused, but on: their checks are part of the cost.
  limits: { perMinute: 1_000_000, maxInFlight: 1_000_000 },
});

const problem = await store.problems.create({
  title: "A + B (bench)",
  description: "Print a + b.",
  difficulty: "easy",
  testCases: Array.from({ length: 10 }, (_, i) => ({ input: `${i} ${i * 3}\n`, output: `${i * 4}\n`, hidden: i > 2 })),
  codeStubs: [],
});
const code = '#include <stdio.h>\nint main(void){long long a,b;if(scanf("%lld %lld",&a,&b)!=2)return 1;printf("%lld\\n",a+b);return 0;}\n';
const headers = await Promise.all(
  Array.from({ length: Number(args.users) }, async (_, i) => ({ authorization: `Bearer ${await signToken({ sub: `bench-user-${i}`, role: "user" }, jwtSecret)}` })),
);
const payload = JSON.stringify({ problemId: problem._id, language: "c", code });
let next = 0;
const statuses = new Map<number, number>();
const wave = async () => {
  const responses = await Promise.all(
    Array.from({ length: CONCURRENCY }, () =>
      app.inject({ method: "POST", url: "/api/v1/submissions", headers: { ...headers[next++ % headers.length]!, "content-type": "application/json" }, payload }),
    ),
  );
  for (const response of responses) statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
};

for (let i = 0; i < Number(args.warmup); i++) await wave();
statuses.clear();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let i = 0; i < WAVES; i++) await wave();
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const accepted = statuses.get(201) ?? 0;
process.stderr.write(
  `${JSON.stringify({
    posts: WAVES * CONCURRENCY,
    accepted,
    cpuMsPerPost: Number(((cpu.user + cpu.system) / 1_000 / accepted).toFixed(3)),
    wallMsPerWave: Number((wallMs / WAVES).toFixed(2)),
    statuses: Object.fromEntries(statuses),
    load: loadavg().map((l) => l.toFixed(2)).join(" "),
  })}\n`,
);

await app.close();
await queue.close();
if (problems !== direct) await (problems as unknown as { close(): Promise<void> }).close();
await publisher?.close();
problemServer.close();
await store.close();
await redis.dispose();
