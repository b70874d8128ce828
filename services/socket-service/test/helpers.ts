import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { io, type Socket } from "socket.io-client";
import type { ClientToServerEvents, ServerToClientEvents } from "@sonocode/contracts";

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

export interface ConnectOptions {
  auth?: Record<string, unknown>;
  headers?: Record<string, string>;
  query?: Record<string, string>;
}

/** Connects a real socket.io-client; resolves on "connect", rejects with the connect_error. */
export async function connect(url: string, options: ConnectOptions): Promise<ClientSocket> {
  const socket: ClientSocket = io(url, {
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
    ...(options.auth ? { auth: options.auth } : {}),
    ...(options.headers ? { extraHeaders: options.headers } : {}),
    ...(options.query ? { query: options.query } : {}),
  });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", () => resolve());
      socket.once("connect_error", (error) => reject(error));
    });
  } catch (error) {
    socket.close();
    throw error;
  }
  return socket;
}

/** Connect and expect rejection: returns the connect_error. */
export async function connectError(url: string, options: ConnectOptions): Promise<Error & { data?: unknown }> {
  try {
    const socket = await connect(url, options);
    socket.close();
  } catch (error) {
    return error as Error & { data?: unknown };
  }
  throw new Error("connection unexpectedly succeeded");
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A throwaway redis-server of our own, for tests that need to kill Redis. */
export async function startPrivateRedis(): Promise<{ url: string; kill(): Promise<void> }> {
  const { spawn } = await import("node:child_process");
  const { createServer } = await import("node:net");
  const port = await new Promise<number>((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port: free } = probe.address() as AddressInfo;
      probe.close(() => resolve(free));
    });
  });
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const { Redis } = await import("ioredis");
  const deadline = Date.now() + 10_000;
  for (;;) {
    const probe = new Redis(port, "127.0.0.1", { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on("error", () => undefined);
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      break;
    } catch {
      probe.disconnect();
      if (Date.now() > deadline) throw new Error("private redis-server did not start");
      await sleep(50);
    }
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}
