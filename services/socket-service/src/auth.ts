import type { ExtendedError, Socket } from "socket.io";
import { bearerToken, verifyToken } from "@sonocode/auth";
import type { AuthClaims, ClientToServerEvents, ServerToClientEvents } from "@sonocode/contracts";
import type { Logger } from "@sonocode/logger";

/** What the server keeps per socket: only the verified claims, never anything the client claims. */
export interface SocketData {
  claims: AuthClaims;
}

/** Instances talk to each other only through the adapter's own protocol, not custom events. */
export type InterServerEvents = Record<string, never>;

export type SonoSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/** The one error every rejected handshake gets: clients branch on data.code, the message stays generic. */
export function unauthorizedError(): ExtendedError {
  const error: ExtendedError = new Error("unauthorized");
  error.data = { code: "UNAUTHORIZED" };
  return error;
}

/**
 * Browsers send the token in the handshake's auth payload (io(url, { auth: { token } }));
 * non-browser clients may send "Authorization: Bearer <token>" instead. Query strings are
 * deliberately not read: they end up in proxy and access logs.
 */
export function handshakeToken(handshake: SonoSocket["handshake"]): string | undefined {
  const auth: unknown = handshake.auth;
  if (auth && typeof auth === "object" && "token" in auth && typeof auth.token === "string" && auth.token.length > 0) {
    return auth.token;
  }
  const header = handshake.headers.authorization;
  if (typeof header === "string") {
    try {
      return bearerToken(header);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * Socket.IO middleware: verifies the JWT and stores its claims in socket.data.
 * Any failure (missing, malformed, bad signature, expired) is the same "unauthorized" error.
 */
export function socketAuthMiddleware(jwtSecret: string, logger: Logger) {
  return (socket: SonoSocket, next: (error?: ExtendedError) => void): void => {
    const token = handshakeToken(socket.handshake);
    if (!token) {
      logger.debug({ socketId: socket.id, reason: "missing token" }, "socket handshake rejected");
      next(unauthorizedError());
      return;
    }
    verifyToken(token, jwtSecret).then(
      (claims) => {
        socket.data.claims = claims;
        next();
      },
      (error: unknown) => {
        logger.debug({ socketId: socket.id, reason: error instanceof Error ? error.message : "invalid token" }, "socket handshake rejected");
        next(unauthorizedError());
      },
    );
  };
}
