import { pino, type Logger, type LoggerOptions } from "pino";

export type { Logger };

export interface LoggerConfig {
  service: string;
  level?: string;
  /** Pretty output for humans; defaults to "only when stdout is a TTY". */
  pretty?: boolean;
}

/**
 * Paths that may hold secrets or user code. Logs carry ids and statuses, never
 * tokens and never submitted code.
 */
export const REDACT_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  "headers.authorization",
  "authorization",
  "token",
  "*.token",
  // Submitted code: top level and one level down (body.code, data.source), but not
  // err.code, which carries EADDRINUSE and friends.
  "code",
  "body.code",
  "req.body.code",
  "data.code",
  "source",
  "data.source",
  "password",
  "*.password",
  "JWT_SECRET",
  "*.JWT_SECRET",
];

/** One root logger per process; services derive children with their ids (reqId, submissionId, jobId). */
export function createLogger(config: LoggerConfig): Logger {
  const pretty = config.pretty ?? process.stdout.isTTY === true;
  const options: LoggerOptions = {
    level: config.level ?? "info",
    base: { service: config.service },
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (pretty) {
    return pino({ ...options, transport: { target: "pino-pretty", options: { colorize: true, translateTime: "SYS:HH:MM:ss.l" } } });
  }
  return pino(options);
}

/** A logger that writes nothing: for tests that do not assert on logs. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
