// Process lifecycle shared by every main.ts: listen, one shutdown per process on
// SIGINT/SIGTERM with a deadline, close in reverse start order, and a clean exit
// when start-up fails. Factories never use this; only entry points do.
import type { Server } from "node:http";
import { createServer, type AddressInfo } from "node:net";
import { flushLogs, type Logger } from "@sonocode/logger";

/** Listens and resolves with the bound address (port 0 picks a free one); rejects on EADDRINUSE and the like. */
export function listenHttp(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** Stops accepting, lets in-flight requests finish, and drops idle keep-alive connections that would hold close() open. */
export function closeHttpServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeIdleConnections();
  });
}

/** A port that was free a moment ago, for child processes that need a port number up front. */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

export interface Closer {
  name: string;
  close: () => Promise<unknown>;
}

/**
 * Closes in reverse start order. A failing close is logged and the rest still run,
 * so one stuck component never leaves the database or Redis open. Empties the list.
 */
export async function closeInReverse(closers: Closer[], logger: Logger): Promise<void> {
  for (const { name, close } of closers.splice(0).reverse()) {
    try {
      await close();
      logger.info({ component: name }, "closed");
    } catch (error) {
      logger.error({ err: error, component: name }, "close failed");
    }
  }
}

export interface ShutdownOptions {
  logger: Logger;
  /** Past this the process exits 1 anyway: the orchestrator restarts us. */
  timeoutMs: number;
  /** Stops everything, in reverse start order. Rejecting means exit 1. */
  stop: () => Promise<void>;
}

/**
 * Wires SIGINT and SIGTERM to one shutdown per process. Returns that shutdown, so a
 * failed start-up can go through the same path with exit code 1.
 */
export function onShutdownSignals(options: ShutdownOptions): (reason: string, exitCode?: number) => Promise<void> {
  const { logger, timeoutMs, stop } = options;
  let shuttingDown = false;
  async function shutdown(reason: string, exitCode = 0): Promise<void> {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ reason }, "shutting down");
    const timer = setTimeout(() => {
      logger.error({ timeoutMs }, "shutdown timed out; exiting");
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    try {
      await stop();
    } catch (error) {
      logger.error({ err: error }, "shutdown failed");
      await flushLogs();
      process.exit(1);
    }
    clearTimeout(timer);
    logger.info("stopped");
    // A line still being written into a full pipe would be dropped by process.exit(): wait for it (2 s at most).
    await flushLogs();
    process.exit(exitCode);
  }
  process.once("SIGINT", () => void shutdown("SIGINT"));
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  return shutdown;
}

/** Runs an entry point: an error out of it (bad config, failed start-up) is printed and exits 1. */
export function runMain(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    // Config errors are for humans: the message lists every bad variable, a stack adds nothing.
    // Matched by name so this package does not depend on @sonocode/config.
    if (error instanceof Error && error.name === "ConfigError") console.error(error.message);
    else console.error(error);
    process.exit(1);
  });
}
export { createProbeHandler, sendJson, type ProbeHandlerOptions } from "./probes.js";
