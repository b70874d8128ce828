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

/** Linux's PIPE_BUF: a write of at most this many bytes to a pipe is never split, nor interleaved with another writer's. */
const PIPE_BUF = 4096;

/** sonic-boom 4's write state, which its exit flush reads (see stdout()). Private: pinned by package-lock, covered by test/shared-pipe.test.ts. */
interface WriteState {
  _writing: boolean;
  destroyed: boolean;
  release: (error: Error | null, written: number) => void;
  flushSync(): void;
}

type Destination = ReturnType<typeof pino.destination>;
let destination: Destination | undefined;

/**
 * Standard output, one destination per process, shared by all its loggers (the embedded
 * platform builds one per service; with a destination each they wrote side by side).
 * Asynchronous, each line written as soon as the previous write is done (minLength 0: no
 * batching, no timer), as pino's default. What changes is maxWrite: the lines queued
 * meanwhile go out together in writes of at most PIPE_BUF bytes (sonic-boom joins whole
 * lines only), not 16 KiB. On a pipe shared with another process (the embedded launcher
 * and its evaluator child: the child inherits this stdout) a longer write is not atomic:
 * once the pipe is full it is written in parts (O_NONBLOCK: Node sets it on fd 1's open
 * file description, which both processes share) and the other process's lines land
 * between them, mid-line. A single line longer than PIPE_BUF can still be split that way:
 * no write size prevents it.
 *
 * Exit: pino flushes the destination synchronously on process 'exit' (process.exit(), an
 * uncaught exception), except the chunk whose write is in progress: sonic-boom's
 * flushSync() skips it. If that write is in the thread pool, Node still performs it before
 * the process ends (uv_library_shutdown), and it is lost only if the pipe is full then:
 * flushLogs() before process.exit() avoids that. If it met a full pipe already, it waits
 * for sonic-boom's retry timer, which never fires once the process exits: that chunk is
 * handed back to flushSync() here and written first.
 */
function stdout(): Destination {
  if (destination) return destination;
  const dest = pino.destination({ dest: 1, sync: false, minLength: 0, maxWrite: PIPE_BUF });
  const state = dest as unknown as WriteState;
  // sonic-boom reads its `release` callback each time it starts a write (actualWrite, and
  // the retry after EAGAIN), and the thread pool calls it when the write is done: between
  // the two the write is in the thread pool.
  const settle = state.release;
  let inPool = false;
  const done = (error: Error | null, written: number): void => {
    inPool = false;
    settle(error, written);
  };
  Object.defineProperty(dest, "release", {
    get: () => {
      inPool = true;
      return done;
    },
  });
  // Before pino's own exit flush (registered with the destination): the waiting chunk goes out first.
  process.prependListener("exit", () => {
    if (!state._writing || inPool || state.destroyed) return;
    state._writing = false;
    try {
      state.flushSync();
    } catch {
      // stdout is gone (on EPIPE pino made flushSync a no-op already): nothing to write to.
    }
  });
  destination = dest;
  return dest;
}

/**
 * Resolves once every line logged so far is written (or after timeoutMs): for a shutdown
 * to await right before process.exit(), which cannot wait for a write in progress.
 */
export function flushLogs(timeoutMs = 2_000): Promise<void> {
  const dest = destination;
  if (!dest || !(dest as unknown as WriteState)._writing) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      dest.off("drain", done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    timer.unref();
    dest.on("drain", done);
  });
}

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
  return pino(options, stdout());
}

/** A logger that writes nothing: for tests that do not assert on logs. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
