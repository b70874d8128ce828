// A TCP forwarder in front of the real PostgreSQL server that a test can cut:
// "down" refuses and resets every connection (a stopped server), "blackhole"
// accepts and swallows bytes (a wedged server or a dead link), "up" forwards.
// The shared test server cannot be stopped (other test files use it), so the
// fault is injected on the wire instead.
import { createServer, connect, type Server, type Socket } from "node:net";
import { once } from "node:events";
import type { AddressInfo } from "node:net";

export type ProxyMode = "up" | "down" | "blackhole";

export interface FaultProxy {
  port: number;
  set(mode: ProxyMode): Promise<void>;
  close(): Promise<void>;
}

export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  let mode: ProxyMode = "up";
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
  };
  const onConnection = (client: Socket) => {
    track(client);
    if (mode === "blackhole") {
      client.on("data", () => undefined);
      return;
    }
    const upstream = connect(target.port, target.host);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  };
  let server: Server | null = createServer(onConnection);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;

  const stopListening = async () => {
    if (!server) return;
    const closing = server;
    server = null;
    await new Promise<void>((resolve) => closing.close(() => resolve()));
  };
  const resetAll = () => {
    for (const socket of sockets) socket.resetAndDestroy();
  };

  return {
    port,
    async set(next) {
      mode = next;
      if (next === "down") {
        // Refused from now on, and every open connection reset: what a killed server looks like.
        await Promise.all([stopListening(), Promise.resolve(resetAll())]);
        return;
      }
      if (next === "blackhole") {
        // Existing connections go silent too: bytes are read and dropped.
        for (const socket of sockets) {
          socket.unpipe();
          socket.removeAllListeners("data");
          socket.on("data", () => undefined);
        }
      }
      if (!server) {
        server = createServer(onConnection);
        server.listen(port, "127.0.0.1");
        await once(server, "listening");
      }
    },
    async close() {
      resetAll();
      await stopListening();
    },
  };
}
