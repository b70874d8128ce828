import type { IncomingMessage, ServerResponse } from "node:http";
import { createProbeHandler } from "@sonocode/lifecycle";

export interface SocketHttpDeps {
  /** Resolves when Redis answers; rejects (or times out) when it does not. */
  redisPing: () => Promise<void>;
}

/**
 * The socket-service's own HTTP routes (/ping, /health). Socket.IO intercepts
 * /socket.io/ before this runs, so the same port serves probes and websockets.
 */
export function createSocketHttpHandler(deps: SocketHttpDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return createProbeHandler({ dependency: { name: "redis", check: deps.redisPing } });
}
