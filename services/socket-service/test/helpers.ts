import { io, type Socket } from "socket.io-client";
import type { ClientToServerEvents, ServerToClientEvents } from "@sonocode/contracts";

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

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
