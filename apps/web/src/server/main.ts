// Distributed mode: the web server alone, in front of services running elsewhere
// (npm run start -w @sonocode/web; upstream URLs from the environment).
import { loadConfig } from "@sonocode/config";
import { listenHttp, onShutdownSignals, runMain } from "@sonocode/lifecycle";
import { createLogger } from "@sonocode/logger";
import { ensureClientBuilt } from "../build/client-build.js";
import { devSignInFor, webEnvSchema } from "./web.config.js";
import { createWebServer } from "./web.server.js";

runMain(async () => {
  const config = loadConfig(webEnvSchema);
  const logger = createLogger({ service: "web", level: config.LOG_LEVEL });
  const { distDir } = await ensureClientBuilt(config.WEB_DIST_DIR);
  const devSignIn = devSignInFor(config.NODE_ENV, config.JWT_SECRET);
  const web = createWebServer(
    { upstreams: { problem: config.PROBLEM_SERVICE_URL, submission: config.SUBMISSION_SERVICE_URL, socket: config.SOCKET_SERVICE_URL }, distDir, devSignIn },
    logger,
  );
  const { port } = await listenHttp(web.server, config.WEB_PORT, config.HOST);
  logger.info({ url: `http://${config.HOST}:${port}`, devSignIn: devSignIn !== undefined }, "web server listening");
  onShutdownSignals({ logger, timeoutMs: config.SHUTDOWN_TIMEOUT_MS, stop: () => web.close() });
});
