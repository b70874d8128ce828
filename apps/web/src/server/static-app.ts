import { join } from "node:path";
import express, { type Response } from "express";

/**
 * The app's Content-Security-Policy: scripts only from this origin (so nothing a problem
 * statement smuggles past the sanitiser can run), connections only to this origin (the API
 * and the socket, same host). Styles allow inline: CodeMirror injects its theme as <style>.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

function securityHeaders(res: Response): void {
  res.setHeader("content-security-policy", CONTENT_SECURITY_POLICY);
  res.setHeader("x-content-type-options", "nosniff");
  res.setHeader("referrer-policy", "no-referrer");
}

/** Paths the single-page app never owns: an unknown one is a JSON 404, not index.html. */
export function isApiPath(path: string): boolean {
  return path === "/api" || path.startsWith("/api/") || path.startsWith("/socket.io");
}

/**
 * The built app: hashed assets cached for good, index.html never cached, and every other
 * GET of a non-API path answered with index.html so deep links (/problems/<id>) work.
 */
export function staticApp(distDir: string): express.Router {
  const router = express.Router();
  router.use(
    "/assets",
    express.static(join(distDir, "assets"), {
      immutable: true,
      maxAge: "1y",
      index: false,
      fallthrough: false,
      setHeaders: (res) => res.setHeader("x-content-type-options", "nosniff"),
    }),
  );
  router.use(express.static(distDir, { index: false, maxAge: "1h" }));
  router.get(/.*/, (req, res, next) => {
    if (isApiPath(req.path)) {
      next();
      return;
    }
    securityHeaders(res);
    res.setHeader("cache-control", "no-cache");
    res.sendFile(join(distDir, "index.html"));
  });
  return router;
}
