// Custom checkers (testlib and Kattis protocols), run in the sandbox like programs: never on
// the event loop, never on the host, and never in the program's own session (a session of
// their own: another uid, another work dir the program cannot read). Built once per checker
// content, engine and runtime (rootfs tree or image id) and cached, the binary kept on host disk
// in a bounded cache (checker-cache.ts: least recently used first); every submission installs
// it into a fresh session, and every test is one sandboxed run (see protocols.ts).
import { createHash, randomBytes } from "node:crypto";
import { chmod, lstat, mkdir, mkdtemp, open, readFile, rename, rm, stat, writeFile, type FileHandle } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { JUDGE_DEFAULTS, type Checker, type CheckerFailureReason, type JudgeTest } from "@sonocode/contracts";
import type { Logger } from "pino";
import { compileInSession } from "../compile.js";
import { COMPILE_LIMITS, languageSpec } from "../languages.js";
import type { RunLimits, SandboxEngine, SandboxSession, SessionOptions } from "../sandbox/sandbox.js";
import { exitedCleanly } from "../verdict.js";
import { CHECKER_RUN_LIMITS, checkerArgv, decide, type CheckerDecision } from "./protocols.js";
import { CHECKER_CACHE_DEFAULTS, pruneCheckerCache, touchCachedBinary, type CheckerCacheBounds } from "./checker-cache.js";

/** Languages built into one native binary (/box/main) and those run from their source. */
const NATIVE = new Set(["C", "CPP", "GO", "RUST"]);
const SCRIPT = new Set(["PYTHON", "JAVASCRIPT"]);
const INSTALLED_BINARY = "/box/checker";
const MAX_BINARY_BYTES = 64 * 1024 * 1024;

export interface OpenedChecker {
  /** Runs the checker on one test; a SandboxError (the sandbox broke) rejects, anything the checker did is a decision. */
  check(test: JudgeTest, output: Uint8Array): Promise<CheckerDecision>;
  dispose(): Promise<void>;
}

/** A built checker or interactor to install elsewhere: its files (names plain) and its argv relative to the directory they land in. */
export interface BuiltProgram {
  files: { name: string; content: Buffer; executable: boolean }[];
  /** argv with `dir` as the directory the files were put in. */
  argv(dir: string): string[];
  env: Record<string, string> | undefined;
  /** Short content key for logs. */
  key: string;
}

export interface CustomCheckerHost {
  /**
   * The checker installed in a session of its own, or why it cannot judge (IE for the
   * submission). options.cpusOf: the submission's session, whose CPU the checker's runs share.
   */
  open(checker: Checker, options?: SessionOptions): Promise<OpenedChecker | { failure: string; code: CheckerFailureReason }>;
  /** The checker (or an interactor, built the same way) built once per content and cached, as files to install; or why it cannot be. */
  program(checker: Checker, options?: SessionOptions): Promise<BuiltProgram | { failure: string }>;
  /** Checker failures seen (builds that failed, runs that failed): admins' signal that a problem is broken. */
  stats(): { builds: number; buildFailures: number; runFailures: number };
}

export interface CustomCheckerHostOptions {
  engine: SandboxEngine;
  logger?: Logger | undefined;
  /** Where built checker binaries are kept (default <tmpdir>/sonocode-checkers). */
  cacheDir?: string;
  /** Bounds of that cache (default CHECKER_CACHE_DEFAULTS: 256 binaries, 512 MiB, 10 min grace). */
  cacheBounds?: Partial<CheckerCacheBounds>;
}

type Built = { kind: "native"; binary: string } | { kind: "script" } | { kind: "failed"; reason: string };

const COPY_LIMITS: RunLimits = { ...COMPILE_LIMITS, outputBytes: MAX_BINARY_BYTES + 1, fileSizeBytes: MAX_BINARY_BYTES };

/** Why a checker cannot be honoured at all, before anything is built. */
export function unsupportedReason(checker: Checker): string | null {
  if (checker.language === undefined || checker.source === undefined) return "the problem's custom checker arrived without its language or source";
  if (!NATIVE.has(checker.language) && !SCRIPT.has(checker.language)) return `custom checkers in ${checker.language} are not supported`;
  const spec = languageSpec(checker.language);
  for (const file of checker.files ?? []) {
    if (!/^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/.test(file.name) || file.name === spec.sourceFile || /^main(\.|$)/i.test(file.name)) {
      return `the custom checker's file name ${JSON.stringify(file.name.slice(0, 64))} is not allowed`;
    }
  }
  return null;
}

/** Writes the checker's source and files into a session's work dir. */
async function writeSources(session: SandboxSession, checker: Checker): Promise<void> {
  const spec = languageSpec(checker.language!);
  for (const file of checker.files ?? []) await session.writeFile(file.name, file.content);
  await session.writeFile(spec.sourceFile, checker.source!);
}

/** Appends a string, bytes or a host file to `handle`; returns how many bytes. */
async function append(handle: FileHandle, part: string | Uint8Array | { path: string }): Promise<number> {
  if (typeof part === "string" || part instanceof Uint8Array) {
    const bytes = typeof part === "string" ? Buffer.from(part, "utf8") : part;
    await handle.write(bytes);
    return bytes.length;
  }
  const source = await open(part.path, "r");
  try {
    const chunk = Buffer.alloc(1024 * 1024);
    let total = 0;
    for (;;) {
      const { bytesRead } = await source.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) return total;
      await handle.write(chunk, 0, bytesRead);
      total += bytesRead;
    }
  } finally {
    await source.close();
  }
}

export function createCustomCheckerHost(options: CustomCheckerHostOptions): CustomCheckerHost {
  const { engine, logger } = options;
  const cacheDir = options.cacheDir ?? join(tmpdir(), "sonocode-checkers");
  /** One build per content hash in this process; a failed build is remembered (its fix is a new hash). */
  const builds = new Map<string, Promise<Built>>();
  const counters = { builds: 0, buildFailures: 0, runFailures: 0 };
  let cacheReady: Promise<void> | null = null;
  const bounds: CheckerCacheBounds = { ...CHECKER_CACHE_DEFAULTS, ...options.cacheBounds };
  /** Cached binaries (file names) this process is installing or reading: never evicted meanwhile. */
  const inUse = new Map<string, number>();
  let runtime: Promise<string> | null = null;

  /** The engine's runtime (rootfs tree or image id): a binary built against another one is never reused. */
  function runtimeId(): Promise<string> {
    runtime ??= engine.runtimeIdentity ? engine.runtimeIdentity() : Promise.resolve("unknown-runtime");
    runtime.catch(() => {
      runtime = null;
    });
    return runtime;
  }

  /**
   * Root installs what it finds here as a problem's checker, so the cache must be ours
   * alone: a real directory (not a symlink) owned by the judge's uid with mode 0700. A
   * directory someone else made first (it lives under the shared tmpdir by default) is
   * refused, never trusted.
   */
  function privateCacheDir(): Promise<void> {
    cacheReady ??= (async () => {
      await mkdir(cacheDir, { recursive: true, mode: 0o700 });
      const info = await lstat(cacheDir);
      if (!info.isDirectory() || info.uid !== (process.getuid?.() ?? info.uid)) throw new Error(`the checker cache ${cacheDir} is not a directory owned by the judge`);
      if ((info.mode & 0o077) !== 0) await chmod(cacheDir, 0o700);
    })();
    cacheReady.catch(() => {
      cacheReady = null;
    });
    return cacheReady;
  }

  async function keyOf(checker: Checker): Promise<string> {
    const content = JSON.stringify([engine.name, await runtimeId(), checker.language, checker.source, (checker.files ?? []).map((f) => [f.name, f.content])]);
    return createHash("sha256").update(content).digest("hex");
  }

  /** Keeps the cache within its bounds after a build; the binary just built and those in use stay. */
  async function prune(justBuilt: string): Promise<void> {
    try {
      const removed = await pruneCheckerCache(cacheDir, bounds, new Set([...inUse.keys(), justBuilt]));
      if (removed.length > 0) logger?.info({ removed: removed.length }, "checker cache: least recently used binaries evicted");
    } catch (error) {
      logger?.warn({ err: error }, "checker cache could not be pruned");
    }
  }

  async function build(checker: Checker, key: string, options: SessionOptions): Promise<Built> {
    const spec = languageSpec(checker.language!);
    const binary = join(cacheDir, `${key}.bin`);
    await privateCacheDir();
    if (NATIVE.has(checker.language!) && (await stat(binary).then((info) => info.isFile(), () => false))) return { kind: "native", binary };
    counters.builds++;
    const session = await engine.open(options);
    try {
      await writeSources(session, checker);
      if (spec.compile) {
        const { outcome: out, hit } = await compileInSession(session, spec.compile, spec.env ? { ...spec.env } : undefined);
        if (hit !== null || !exitedCleanly(out)) {
          counters.buildFailures++;
          // The compiler's words are for the admin's log, never the submitter's verdict.
          logger?.error({ checker: key.slice(0, 16), language: checker.language, limit: hit, exitCode: out.exitCode, compileOutput: out.stderr.subarray(0, 2048).toString("utf8") }, "custom checker does not build: its problem needs an admin");
          return { kind: "failed", reason: "the problem's custom checker does not compile" };
        }
      }
      if (SCRIPT.has(checker.language!)) return { kind: "script" };
      // The binary leaves the sandbox as the stdout of a cat: the session interface moves bytes only through runs.
      const copy = await session.run({ argv: ["/bin/cat", "/box/main"], stdin: "", limits: COPY_LIMITS, writableWorkDir: false });
      if (!exitedCleanly(copy) || copy.stdoutBytes !== copy.stdout.length || copy.stdout.length === 0) {
        throw new Error(`could not read the built checker out of the sandbox (exit ${copy.exitCode ?? copy.signal}, ${copy.stdoutBytes} bytes)`);
      }
      const staging = `${binary}.${process.pid}.${randomBytes(8).toString("hex")}.tmp`;
      // "wx": O_CREAT|O_EXCL, so nothing planted under the name (a symlink included) is written through.
      await writeFile(staging, copy.stdout, { mode: 0o600, flag: "wx" });
      await rename(staging, binary); // atomic: a reader sees a whole binary or none
      logger?.info({ checker: key.slice(0, 16), language: checker.language, bytes: copy.stdout.length }, "custom checker built");
      await prune(basename(binary));
      return { kind: "native", binary };
    } finally {
      await session.dispose().catch((error: unknown) => logger?.warn({ err: error }, "checker build session dispose failed"));
    }
  }

  function built(checker: Checker, key: string, options: SessionOptions): Promise<Built> {
    let pending = builds.get(key);
    if (!pending) {
      pending = build(checker, key, options);
      builds.set(key, pending);
      // A broken sandbox is not the checker's fault: the next submission builds again.
      pending.catch(() => builds.delete(key));
    }
    return pending;
  }

  /**
   * The built artefact, marked in use until `release()`: a native binary is touched (LRU) and,
   * when it was evicted since this process built it (by the bound, or another evaluator sharing
   * the directory), built again.
   */
  async function acquire(checker: Checker, options: SessionOptions): Promise<{ key: string; artefact: Built; release: () => void }> {
    const key = await keyOf(checker);
    let artefact = await built(checker, key, options);
    if (artefact.kind !== "native") return { key, artefact, release: () => undefined };
    const name = basename(artefact.binary);
    inUse.set(name, (inUse.get(name) ?? 0) + 1);
    const release = () => {
      const left = (inUse.get(name) ?? 1) - 1;
      if (left > 0) inUse.set(name, left);
      else inUse.delete(name);
    };
    try {
      if (!(await touchCachedBinary(artefact.binary))) {
        builds.delete(key);
        artefact = await built(checker, key, options);
      }
    } catch (error) {
      release();
      throw error;
    }
    return { key, artefact, release };
  }

  async function install(session: SandboxSession, checker: Checker, artefact: Built): Promise<readonly string[]> {
    const spec = languageSpec(checker.language!);
    if (artefact.kind === "native") {
      const out = await session.run({
        argv: ["/bin/sh", "-c", `cat > ${INSTALLED_BINARY} && chmod 555 ${INSTALLED_BINARY}`],
        stdin: { path: artefact.binary },
        limits: COPY_LIMITS,
        writableWorkDir: true,
      });
      if (!exitedCleanly(out)) throw new Error(`could not install the checker binary in its sandbox (exit ${out.exitCode ?? out.signal})`);
      return [INSTALLED_BINARY];
    }
    await writeSources(session, checker);
    return spec.run({ memoryLimitMb: CHECKER_RUN_LIMITS.memoryBytes / (1024 * 1024) });
  }

  return {
    async program(checker, options = {}) {
      const unsupported = unsupportedReason(checker);
      if (unsupported) return { failure: unsupported, code: "unsupported" };
      const { key: fullKey, artefact, release } = await acquire(checker, options);
      if (artefact.kind === "failed") return { failure: artefact.reason, code: "build" };
      const spec = languageSpec(checker.language!);
      const env = spec.env ? { ...spec.env } : undefined;
      const key = fullKey.slice(0, 16);
      if (artefact.kind === "native") {
        const content = await readFile(artefact.binary).finally(release);
        return { files: [{ name: "main", content, executable: true }], argv: (dir) => [`${dir}/main`], env, key };
      }
      // A script runs from its source, with its files beside it: the registry's argv, moved from /box to `dir`.
      const files = [...(checker.files ?? []), { name: spec.sourceFile, content: checker.source! }].map((file) => ({ name: file.name, content: Buffer.from(file.content, "utf8"), executable: false }));
      const argv = spec.run({ memoryLimitMb: CHECKER_RUN_LIMITS.memoryBytes / (1024 * 1024) });
      return { files, argv: (dir) => argv.map((arg) => (arg.startsWith("/box/") ? `${dir}/${arg.slice("/box/".length)}` : arg)), env, key };
    },
    async open(checker, options = {}) {
      const unsupported = unsupportedReason(checker);
      if (unsupported) return { failure: unsupported, code: "unsupported" };
      const { key: fullKey, artefact, release } = await acquire(checker, options);
      if (artefact.kind === "failed") return { failure: artefact.reason, code: "build" };
      const spec = languageSpec(checker.language!);
      const protocol = checker.protocol ?? "testlib";
      const key = fullKey.slice(0, 16);
      let session: SandboxSession;
      try {
        // Its own slot (uid, work dir), the submission's CPU: never another submission's.
        session = await engine.open(options);
      } catch (error) {
        release();
        throw error;
      }
      let scratch: string | null = null;
      try {
        const argv = await install(session, checker, artefact).finally(release);
        scratch = await mkdtemp(join(tmpdir(), "sonocode-check-"));
        const stdinPath = join(scratch, "stdin");
        const env = spec.env ? { ...spec.env } : undefined;
        const dir = scratch;
        return {
          async check(test, output) {
            const handle = await open(stdinPath, "w", 0o600);
            let inputBytes: number;
            let answerBytes: number;
            try {
              inputBytes = await append(handle, "inputFile" in test ? { path: test.inputFile } : test.input);
              answerBytes = await append(handle, "outputFile" in test ? { path: test.outputFile } : test.output);
              await append(handle, output);
            } finally {
              await handle.close();
            }
            const outcome = await session.run({ argv: checkerArgv(protocol, inputBytes, answerBytes, argv), stdin: { path: stdinPath }, limits: CHECKER_RUN_LIMITS, env, writableWorkDir: false });
            const decision = decide(protocol, outcome);
            if (decision.kind === "failure") {
              counters.runFailures++;
              logger?.error({ checker: key, protocol, reason: decision.reason, exitCode: outcome.exitCode, signal: outcome.signal }, "custom checker failed: its problem needs an admin");
            }
            return decision;
          },
          async dispose() {
            await Promise.all([session.dispose(), rm(dir, { recursive: true, force: true })]);
          },
        };
      } catch (error) {
        await session.dispose().catch(() => undefined);
        if (scratch) await rm(scratch, { recursive: true, force: true }).catch(() => undefined);
        throw error;
      }
    },
    stats: () => ({ ...counters }),
  };
}
