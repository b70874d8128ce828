import { io, type Socket } from "socket.io-client";
import type { ServerToClientEvents } from "@sonocode/contracts";
import { token } from "./session.js";

/** Events the socket-service pushes to every tab of the signed-in user (room user:<sub>). */
type ServerEvents = ServerToClientEvents;
type EventName = keyof ServerEvents;

let socket: Socket<ServerEvents, Record<string, never>> | null = null;
let socketToken: string | null = null;
const reconnectListeners = new Set<() => void>();

/**
 * One connection per tab, authenticated by the handshake (never by anything sent later),
 * through this origin's /socket.io/. After a reconnect, listeners re-read state over HTTP:
 * events sent while the tab was away are not replayed.
 */
function connection(): Socket<ServerEvents, Record<string, never>> | null {
  const current = token();
  if (current !== socketToken) {
    socket?.disconnect();
    socket = null;
    socketToken = current;
  }
  if (!current) return null;
  if (!socket) {
    socket = io({ auth: { token: current }, transports: ["websocket"] });
    let connectedBefore = false;
    socket.on("connect", () => {
      if (connectedBefore) for (const listener of reconnectListeners) listener();
      connectedBefore = true;
    });
  }
  return socket;
}

/** Subscribes to one event; returns the unsubscribe function. */
export function onLive<E extends EventName>(event: E, listener: ServerEvents[E]): () => void {
  const live = connection();
  if (!live) return () => {};
  // socket.io's typed emitter cannot relate a generic E to its own overloads.
  const untyped = live as unknown as { on(e: string, l: unknown): void; off(e: string, l: unknown): void };
  untyped.on(event, listener);
  return () => untyped.off(event, listener);
}

export function onReconnect(listener: () => void): () => void {
  reconnectListeners.add(listener);
  return () => reconnectListeners.delete(listener);
}

export function isLiveConnected(): boolean {
  return socket?.connected ?? false;
}

export function closeLive(): void {
  socket?.disconnect();
  socket = null;
  socketToken = null;
}
