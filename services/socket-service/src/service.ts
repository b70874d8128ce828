import { createServer, type Server as HttpServer } from "node:http";
import { createSocketHttpHandler } from "./http.js";
import { createSocketServer, type SocketServerDeps, type SonoSocketServer } from "./server.js";

export interface SocketService {
  /** Not listening yet: the caller (main.ts or the embedded launcher) listens. */
  httpServer: HttpServer;
  io: SonoSocketServer;
  close(): Promise<void>;
}

/** http server with /ping and /health + Socket.IO on the same port. */
export async function createSocketService(deps: SocketServerDeps): Promise<SocketService> {
  let redisPing: () => Promise<void> = () => Promise.reject(new Error("not started"));
  const httpServer = createServer(createSocketHttpHandler({ redisPing: () => redisPing() }));
  const socket = await createSocketServer(httpServer, deps);
  redisPing = socket.redisPing;
  return {
    httpServer,
    io: socket.io,
    async close() {
      // io.close() also closes httpServer; idle keep-alive connections would otherwise hold it open.
      const closed = socket.close();
      httpServer.closeIdleConnections();
      await closed;
    },
  };
}
