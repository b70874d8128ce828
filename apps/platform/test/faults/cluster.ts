// The platform in distributed mode for fault injection: each service's own main.ts as a separate
// process (what `npm run start -w <service>` runs), on a Redis with AOF and a PostgreSQL server
// of the suite's own, so both can be killed and restarted. Processes are killed for real (kill -9).
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startPrivatePostgres, startPrivateRedis, uniqueName, type PrivatePostgres, type PrivateRedis } from "@sonocode/testkit";

const ROOT = new URL("../../../..", import.meta.url).pathname;
export const FAULT_JWT_SECRET = "fault-suite-secret-0123456789abcdef-xyz";

export type ServiceName = "problem-service" | "submission-service" | "socket-service" | "evaluator-service";

interface ServiceSpec {
  service: ServiceName;
  port: number;
  env: Record<string, string>;
}

export interface FaultClusterOptions {
  label: string;
  /** Extra environment per evaluator process (one entry per evaluator: evaluator-1, evaluator-2, ...). */
  evaluators: Array<Record<string, string>>;
  submissionEnv?: Record<string, string>;
}

class ServiceProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private log: WriteStream | undefined;

  constructor(
    readonly key: string,
    readonly spec: ServiceSpec,
    private readonly baseEnv: Record<string, string>,
    readonly logFile: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.spec.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    if (this.running) throw new Error(`${this.key} is already running`);
    this.log ??= createWriteStream(this.logFile, { flags: "a" });
    this.log.write(`--- start ${new Date().toISOString()}\n`);
    const child = spawn(process.execPath, ["--import", "tsx", `services/${this.spec.service}/src/main.ts`], {
      cwd: ROOT,
      env: { ...this.baseEnv, ...this.spec.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.pipe(this.log, { end: false });
    child.stderr!.pipe(this.log, { end: false });
    this.child = child;
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
  }

  /** kill -9 (default) or a polite signal; resolves when the process is gone. */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    if (this.running) this.child!.kill(signal);
    await this.exited;
  }

  async close(): Promise<void> {
    await this.kill();
    await new Promise<void>((resolve) => (this.log ? this.log.end(() => resolve()) : resolve()));
  }
}

export interface HealthReply {
  status: number;
  body: { success: boolean; message: string; error: { code?: string; details?: unknown }; data: Record<string, unknown> };
}

export class FaultCluster {
  private constructor(
    readonly redis: PrivateRedis,
    readonly postgres: PrivatePostgres,
    readonly databaseUrl: string,
    readonly prefix: string,
    private readonly processes: Map<string, ServiceProcess>,
    private readonly logDir: string,
  ) {}

  static async start(options: FaultClusterOptions): Promise<FaultCluster> {
    const [redis, postgres, logDir] = await Promise.all([
      startPrivateRedis({ appendOnly: true }),
      startPrivatePostgres(),
      mkdtemp(join(tmpdir(), `sonocode-faults-${options.label}-`)),
    ]);
    const databaseUrl = await postgres.createDatabase(options.label.replace(/-/g, "_"));
    const prefix = uniqueName(options.label);
    const ports = await Promise.all([freePort(), freePort(), freePort(), ...options.evaluators.map(() => freePort())]);
    const [problemPort, submissionPort, socketPort, ...evaluatorPorts] = ports as [number, number, number, ...number[]];
    const baseEnv: Record<string, string> = {
      ...(process.env as Record<string, string>),
      NODE_ENV: "production",
      LOG_LEVEL: "warn",
      JWT_SECRET: FAULT_JWT_SECRET,
      REDIS_URL: redis.url,
      REDIS_PREFIX: prefix,
      DATABASE_URL: databaseUrl,
      HOST: "127.0.0.1",
      PROBLEM_SERVICE_URL: `http://127.0.0.1:${problemPort}`,
      SANDBOX_ENGINE: "bwrap",
      // The evaluators' test-set cache, private to this run (shared by its evaluators, as on one host).
      TEST_SET_CACHE_DIR: join(logDir, "test-sets"),
      SHUTDOWN_TIMEOUT_MS: "3000",
      // One slot per evaluator (the default is now the usable cores): the scenarios reason about
      // which evaluator holds a job ("in flight = 1", "busy, so the next one goes to the other").
      EVALUATOR_CONCURRENCY: "1",
    };
    const specs: Array<[string, ServiceSpec]> = [
      ["problem", { service: "problem-service", port: problemPort, env: { PROBLEM_SERVICE_PORT: String(problemPort) } }],
      ["submission", { service: "submission-service", port: submissionPort, env: { SUBMISSION_SERVICE_PORT: String(submissionPort), ...options.submissionEnv } }],
      ["socket", { service: "socket-service", port: socketPort, env: { SOCKET_SERVICE_PORT: String(socketPort) } }],
      ...options.evaluators.map((env, i): [string, ServiceSpec] => [
        `evaluator-${i + 1}`,
        { service: "evaluator-service", port: evaluatorPorts[i]!, env: { EVALUATOR_PORT: String(evaluatorPorts[i]!), ...env } },
      ]),
    ];
    const processes = new Map(specs.map(([key, spec]) => [key, new ServiceProcess(key, spec, baseEnv, join(logDir, `${key}.log`))]));
    const cluster = new FaultCluster(redis, postgres, databaseUrl, prefix, processes, logDir);
    try {
      // problem-service first: it migrates the fresh database, the others then find it current.
      await cluster.restart("problem");
      await Promise.all([...processes.keys()].filter((key) => key !== "problem").map((key) => cluster.restart(key)));
    } catch (error) {
      await cluster.dispose(true);
      throw error;
    }
    return cluster;
  }

  private process(key: string): ServiceProcess {
    const found = this.processes.get(key);
    if (!found) throw new Error(`no service ${key}`);
    return found;
  }

  url(key: string): string {
    return this.process(key).url;
  }

  get evaluatorKeys(): string[] {
    return [...this.processes.keys()].filter((key) => key.startsWith("evaluator-"));
  }

  async health(key: string): Promise<HealthReply | null> {
    try {
      const response = await fetch(`${this.url(key)}/health`, { signal: AbortSignal.timeout(10_000) });
      return { status: response.status, body: (await response.json()) as HealthReply["body"] };
    } catch {
      return null;
    }
  }

  async waitHealthy(key: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if ((await this.health(key))?.status === 200) return;
      if (!this.process(key).running) throw new Error(`${key} exited during start-up:\n${await this.tail(key)}`);
      if (Date.now() > deadline) throw new Error(`${key} not healthy after ${timeoutMs} ms:\n${await this.tail(key)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** kill -9: no shutdown hook runs, whatever it was doing is cut off. */
  async kill(key: string): Promise<void> {
    await this.process(key).kill("SIGKILL");
  }

  /**
   * (Re)starts a service and waits until /health is 200, or with "answering" until it answers
   * at all (a service started on purpose with a broken dependency reports 503).
   */
  async restart(key: string, until: "healthy" | "answering" = "healthy"): Promise<void> {
    const target = this.process(key);
    await target.kill();
    target.start();
    if (until === "healthy") await this.waitHealthy(key);
    else await this.waitAnswering(key);
  }

  private async waitAnswering(key: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await this.health(key))) {
      if (!this.process(key).running) throw new Error(`${key} exited during start-up:\n${await this.tail(key)}`);
      if (Date.now() > deadline) throw new Error(`${key} not answering after ${timeoutMs} ms:\n${await this.tail(key)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Prometheus text of an evaluator, as name{labels} -> value. */
  async metrics(key: string): Promise<Map<string, number>> {
    const text = await (await fetch(`${this.url(key)}/metrics`)).text();
    const series = new Map<string, number>();
    for (const line of text.split("\n")) {
      if (!line || line.startsWith("#")) continue;
      const space = line.lastIndexOf(" ");
      series.set(line.slice(0, space), Number(line.slice(space + 1)));
    }
    return series;
  }

  /** The last lines a service logged (pino JSON at warn and above, plus stderr). */
  async tail(key: string, lines = 30): Promise<string> {
    const text = await readFile(this.process(key).logFile, "utf8").catch(() => "");
    return text.split("\n").slice(-lines - 1).join("\n");
  }

  /** Stops everything; keeps the logs (and says where) when asked to. */
  async dispose(keepLogs = false): Promise<void> {
    await Promise.all([...this.processes.values()].map((service) => service.close()));
    await Promise.all([this.redis.dispose(), this.postgres.dispose()]);
    if (keepLogs) console.log(`[faults] service logs kept in ${this.logDir}`);
    else await rm(this.logDir, { recursive: true, force: true });
  }
}
