// The Docker engine's root view (root-view.c explains it): each session container's
// overlay2 root, whose mount options name Docker's layer dirs on the host, is replaced
// by a read-only overlay of our own with relative layer names, before any program runs.
// The helper is built once on the host (static, cached by the hash of its source and
// the compiler, root-owned) and run as root against the container init's host pid.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, lstat, mkdtemp, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { SandboxError } from "../../errors.js";

const exec = promisify(execFile);
const ENV = { PATH: "/usr/local/bin:/usr/bin:/bin" };
const SOURCE = new URL("./root-view.c", import.meta.url);
const HELPER_TIMEOUT_MS = 10_000;

/** Builds the helper into workRoot/root-view-<hash> unless it is there; returns its path. */
export async function ensureRootView(workRoot: string): Promise<string> {
  let compiler: string;
  try {
    compiler = (await exec("gcc", ["--version"], { env: ENV })).stdout;
  } catch {
    throw new SandboxError("docker engine: gcc is not installed on the host (needed once to build the container root helper; run scripts/setup.sh)");
  }
  const source = await readFile(SOURCE);
  const hash = createHash("sha256").update(source).update("\0").update(compiler).digest("hex").slice(0, 16);
  const binary = join(workRoot, `root-view-${hash}`);
  try {
    const info = await lstat(binary);
    if (info.isFile() && info.uid === (process.getuid?.() ?? 0)) return binary;
  } catch {
    // not built yet
  }
  const staging = await mkdtemp(join(workRoot, "root-view-tmp-"));
  try {
    const out = join(staging, "root-view");
    try {
      await exec("gcc", ["-O2", "-Wall", "-static", "-o", out, SOURCE.pathname], { env: ENV });
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr ?? String(error);
      throw new SandboxError(`docker engine: cannot build root-view.c (needs gcc and libc6-dev): ${stderr.slice(0, 1000)}`);
    }
    await chmod(out, 0o700);
    // Another judge process may win the race with an identical binary; either is fine.
    await rename(out, binary).catch(() => undefined);
    return binary;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Replaces the root of the container whose init has this host pid (before any exec). */
export async function pivotContainerRoot(helper: string, initPid: number): Promise<void> {
  try {
    await exec(helper, [String(initPid)], { env: ENV, timeout: HELPER_TIMEOUT_MS });
  } catch (error) {
    const stderr = ((error as { stderr?: string }).stderr ?? String(error)).trim();
    throw new SandboxError(`docker engine: cannot give the container a root of its own (needs root on the host, in its mount and pid namespaces): ${stderr.slice(0, 500)}`);
  }
}
