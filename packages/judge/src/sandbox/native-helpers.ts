// The sandbox engines' native pieces, built once on the host and cached by the hash of
// their sources, the seccomp policy and the compiler: the bwrap engine's per-session
// supervisor, the Docker containers' init (run-helper.c), and the seccomp filter
// (libseccomp, from the one policy in sandbox/seccomp/policy.ts). Static binaries: the
// init runs inside the runtime image, whatever libc that has, and the supervisor's run
// inits live on after it pivots into the rootfs view. Needs gcc, libc6-dev and
// libseccomp-dev on the host (scripts/setup.sh installs them). The cache dir is
// root-owned and never mounted into a sandbox: only the Docker init is copied, alone,
// onto a tmpfs of its own.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, lstat, mkdtemp, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { SandboxError } from "../errors.js";
import { generateSeccompBpf, seccompFingerprint } from "./seccomp/bpf.js";

const exec = promisify(execFile);
const ENV = { PATH: "/usr/local/bin:/usr/bin:/bin" };
const native = (file: string) => new URL(`../../native/${file}`, import.meta.url);
/** Each binary's sources (compiled together); headers only count for the cache key. */
const SOURCES = {
  run: [native("run-helper.c")],
  supervisor: [native("supervisor.c"), native("runs.c"), native("cross.c"), native("session-view.c"), native("session-box.c"), native("userns-view.c"), native("init-prep.c"), native("run-init.c"), native("supervisor.h")],
};
export const SECCOMP_FILE = "seccomp.bpf";

export interface Helpers {
  /** The Docker containers' init (copied onto a tmpfs of its own, bound into each container). */
  run: string;
  /** The bwrap engine's persistent executor, one per session (never mounted). */
  supervisor: string;
  /** The classic-BPF seccomp filter the supervisor's run inits install (never mounted). */
  seccomp: string;
}

function paths(dir: string): Helpers {
  return { run: join(dir, "run"), supervisor: join(dir, "supervisor"), seccomp: join(dir, SECCOMP_FILE) };
}

async function cached(dir: string): Promise<boolean> {
  const root = process.getuid?.() ?? 0;
  try {
    for (const file of Object.values(paths(dir))) {
      const info = await lstat(file);
      if (!info.isFile() || info.uid !== root) return false;
    }
    return true;
  } catch {
    return false;
  }
}

async function compile(out: string, sources: readonly URL[]): Promise<void> {
  const files = sources.map((source) => source.pathname).filter((file) => file.endsWith(".c"));
  try {
    await exec("gcc", ["-O2", "-Wall", "-static", "-o", out, ...files], { env: ENV });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? String(error);
    throw new SandboxError(`cannot build the sandbox helper ${files.map((f) => f.split("/").pop()).join(" ")} (needs gcc and libc6-dev; run scripts/setup.sh): ${stderr.slice(0, 1000)}`);
  }
}

/** Builds the helpers into workRoot/helper-<hash> unless already there; returns their paths. */
export async function ensureHelpers(workRoot: string): Promise<Helpers> {
  let compiler = "";
  try {
    compiler = (await exec("gcc", ["--version"], { env: ENV })).stdout;
  } catch {
    throw new SandboxError("bwrap engine: gcc is not installed on the host (needed once to build the sandbox helpers; run scripts/setup.sh)");
  }
  const key = createHash("sha256");
  for (const source of [...SOURCES.run, ...SOURCES.supervisor]) key.update(await readFile(source)).update("\0");
  const hash = key.update(await seccompFingerprint()).update(compiler).digest("hex").slice(0, 16);
  const dir = join(workRoot, `helper-${hash}`);
  if (await cached(dir)) return paths(dir);
  const staging = await mkdtemp(join(workRoot, "helper-tmp-"));
  try {
    const out = paths(staging);
    await compile(out.run, SOURCES.run);
    await compile(out.supervisor, SOURCES.supervisor);
    await generateSeccompBpf(out.seccomp, staging);
    await chmod(out.seccomp, 0o644);
    await chmod(staging, 0o755);
    try {
      await rename(staging, dir);
    } catch {
      // Another process won the race; its helpers are identical.
      await rm(staging, { recursive: true, force: true });
    }
    return paths(dir);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}
