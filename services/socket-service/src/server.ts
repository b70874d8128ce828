import type { Server as HttpServer } from "node:http";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-adapter";
import { socketIoKey, userRoom, type ClientToServerEvents, type ServerToClientEvents } from "@sonocode/contracts";
import type { Logger } from "@sonocode/logger";
import { socketAuthMiddleware, type InterServerEvents, type SocketData } from "./auth.js";
import { connectRedis, pingRedis, quitRedis } from "@sonocode/redis";
import { startEventRelay } from "./event-relay.js";

export type SonoSocketServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

export interface SocketServerDeps {
  redisUrl: string;
  /** REDIS_PREFIX: the adapter channel is `${prefix}:socket.io`; the user-events stream `${prefix}:user-events`. */
  prefix: string;
  jwtSecret: string;
  logger: Logger;
  corsOrigin?: string | string[];
}

export interface SocketServer {
  io: SonoSocketServer;
  /** Rejects when the adapter's Redis does not answer (used by GET /health). */
  redisPing(): Promise<void>;
  /** Disconnects every socket, closes Socket.IO (and, as Socket.IO does, the attached http server), quits Redis. */
  close(): Promise<void>;
}

/** setTimeout's ceiling (~24.8 days); a token living longer is cut there and the client reconnects. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Attaches Socket.IO to an existing http server (it never listens itself).
 * Identity comes from the handshake token only; each socket joins user:<sub> and
 * nothing else, so results reach every tab of that user on every instance: each instance
 * relays the user-events stream to its own sockets (event-relay.ts). The Redis adapter stays
 * for what Socket.IO itself does across instances.
 */
export async function createSocketServer(httpServer: HttpServer, deps: SocketServerDeps): Promise<SocketServer> {
  const logger = deps.logger;
  const pub = await connectRedis(deps.redisUrl, "socket-adapter-pub", logger);
  const sub = await connectRedis(deps.redisUrl, "socket-adapter-sub", logger).catch(async (error: unknown) => {
    await quitRedis(pub);
    throw error;
  });

  const io: SonoSocketServer = new Server(httpServer, {
    adapter: createAdapter(pub, sub, { key: socketIoKey(deps.prefix) }),
    ...(deps.corsOrigin === undefined ? {} : { cors: { origin: deps.corsOrigin, credentials: false } }),
    // Clients send nothing but the handshake: a small buffer limits what a socket can push at us.
    maxHttpBufferSize: 16 * 1024,
    serveClient: false,
  });

  io.use(socketAuthMiddleware(deps.jwtSecret, logger));

  io.on("connection", (socket) => {
    const userId = socket.data.claims.sub;
    // Joined synchronously in the connection handler, before the client can see "connect".
    void socket.join(userRoom(userId));
    logger.debug({ socketId: socket.id, userId }, "socket connected");
    // The token was checked once, at the handshake: a connection must not outlive it.
    // The client sees "io server disconnect" and reconnects with a fresh token.
    const expiresInMs = socket.data.claims.exp === undefined ? null : socket.data.claims.exp * 1000 - Date.now();
    const expiry = expiresInMs === null ? undefined : setTimeout(() => socket.disconnect(true), Math.min(Math.max(expiresInMs, 0), MAX_TIMER_MS));
    expiry?.unref();
    // No event handlers on purpose: a client-sent "join" or userId is ignored, never acted on.
    socket.on("disconnect", (reason) => {
      clearTimeout(expiry);
      logger.debug({ socketId: socket.id, userId, reason }, "socket disconnected");
    });
  });

  // Events for users come from the user-events stream (event-relay.ts), not the adapter's channel.
  const relay = await startEventRelay(io, deps).catch(async (error: unknown) => {
    await Promise.all([quitRedis(pub), quitRedis(sub)]);
    throw error;
  });

  let closing: Promise<void> | undefined;
  return {
    io,
    redisPing: () => pingRedis(pub),
    close() {
      closing ??= (async () => {
        await relay.close();
        io.disconnectSockets(true);
        await io.close();
        await Promise.all([quitRedis(pub), quitRedis(sub)]);
      })();
      return closing;
    },
  };
}
