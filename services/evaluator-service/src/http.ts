import type { IncomingMessage, ServerResponse } from "node:http";
import { createProbeHandler, sendJson } from "@sonocode/lifecycle";
import { ok } from "@sonocode/errors";
import type { EngineStatus } from "./engine-health.js";

export interface EvaluatorHttpDeps {
  redisPing: () => Promise<void>;
  /** The sandbox's health: a cached self-test, and whether this evaluator is out of rotation. */
  engineStatus: () => Promise<EngineStatus>;
  /** "bwrap" | "docker": which sandbox this evaluator judges with. */
  engine: string;
  concurrency: number;
  renderMetrics: () => string;
}

async function redisState(ping: () => Promise<void>): Promise<"up" | "down"> {
  try {
    await ping();
    return "up";
  } catch {
    return "down";
  }
}

/**
 * GET /health: 200 only when this evaluator can judge, i.e. Redis answers and the sandbox works.
 * Otherwise 503 DEPENDENCY_UNAVAILABLE naming what is down, with the sandbox's reason (a
 * SandboxError message, never a host path), so an operator sees why it stopped taking jobs.
 */
async function health(deps: EvaluatorHttpDeps, res: ServerResponse): Promise<void> {
  const [redis, sandbox] = await Promise.all([redisState(deps.redisPing), deps.engineStatus()]);
  const details = { engine: deps.engine, concurrency: deps.concurrency, outOfRotation: sandbox.outOfRotation };
  if (redis === "up" && sandbox.healthy) {
    sendJson(res, 200, ok({ status: "ok", redis, sandbox: "up", ...details }, "healthy"));
    return;
  }
  const down = [...(redis === "down" ? ["redis"] : []), ...(sandbox.healthy ? [] : ["sandbox"])];
  sendJson(res, 503, {
    success: false,
    message: `${down.join(" and ")} unavailable${sandbox.reason ? `: ${sandbox.reason}` : ""}`,
    error: { code: "DEPENDENCY_UNAVAILABLE", details: { dependencies: down } },
    data: { status: "degraded", redis, sandbox: sandbox.healthy ? "up" : "down", sandboxReason: sandbox.reason, ...details },
  });
}

/** The evaluator's only HTTP surface: probes and Prometheus metrics, no framework needed. */
export function createEvaluatorHttpHandler(deps: EvaluatorHttpDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const probes = createProbeHandler({
    dependency: { name: "redis", check: deps.redisPing },
    routes: {
      "/metrics": (res) => {
        const text = deps.renderMetrics();
        res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8", "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
        res.end(text);
      },
    },
  });
  return (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/health" && (req.method === "GET" || req.method === "HEAD")) {
      health(deps, res).catch(() => sendJson(res, 503, { success: false, message: "health check failed", error: { code: "DEPENDENCY_UNAVAILABLE" }, data: { status: "degraded" } }));
      return;
    }
    probes(req, res);
  };
}
