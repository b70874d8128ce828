export { createWebServer, WEB_CONFIG_PATH, type WebServer } from "./server/web.server.js";
export { devSignInFor, webEnvSchema, webPortEnvSchema, type UpstreamUrls, type WebEnv, type WebServerConfig } from "./server/web.config.js";
export { DEV_SIGNIN_PATH } from "./server/dev-signin.router.js";
export { PROXY_ROUTES, routeFor } from "./server/api-proxy.js";
export { CONTENT_SECURITY_POLICY } from "./server/static-app.js";
export { CLIENT_DIR, DEFAULT_DIST_DIR, ensureClientBuilt, type ClientBuild } from "./build/client-build.js";
