export { createSocketServer, type SocketServer, type SocketServerDeps, type SonoSocketServer } from "./server.js";
export { createSocketService, type SocketService } from "./service.js";
export { createSocketHttpHandler, type SocketHttpDeps } from "./http.js";
export { socketAuthMiddleware, handshakeToken, unauthorizedError, type SocketData, type SonoSocket } from "./auth.js";
