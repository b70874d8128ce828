// Parent side of the native measurements: starts native.runner.ts in a private mount
// namespace (so none of its mounts outlive it or show on the host) and asks it for one
// compile + runs at a time.
import { spawn, type ChildProcess } from "node:child_process";
import { rmdirSync } from "node:fs";
import { createInterface, type Interface } from "node:readline";
import { join } from "node:path";
import { nativeReadySchema, nativeResponseSchema, type NativeRequest, type NativeResponse } from "./native.protocol.js";

export interface NativeRunner {
  /** Median of spawning `chroot <root> /bin/true` from Node: the floor of one native run. */
  execFloorMs: number;
  /** Where the runner mounted the rootfs, in its own namespace only (an empty directory on the host). */
  mountpoint: string;
  measure(request: NativeRequest): Promise<NativeResponse>;
  close(): Promise<void>;
}

const READY_TIMEOUT_MS = 60_000;
const MEASURE_TIMEOUT_MS = 600_000;

export function runnerArgv(root: string, rootfs: string): [string, string[]] {
  return ["unshare", ["--mount", "--propagation", "private", "--", process.execPath, "--import", "tsx", join(root, "scripts/bench/native.runner.ts"), rootfs]];
}

export async function startNativeRunner(options: { repoRoot: string; rootfs: string }): Promise<NativeRunner> {
  const [command, args] = runnerArgv(options.repoRoot, options.rootfs);
  const child: ChildProcess = spawn(command, args, { cwd: options.repoRoot, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-4_000);
  });
  const lines: Interface = createInterface({ input: child.stdout! });
  const pending: Array<(line: string) => void> = [];
  lines.on("line", (line) => pending.shift()?.(line));
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once("exit", () => ((exited = true), resolve())));

  const nextLine = (timeoutMs: number, what: string) =>
    new Promise<string>((resolve, reject) => {
      if (exited) return reject(new Error(`native runner exited: ${stderr.trim()}`));
      const timer = setTimeout(() => reject(new Error(`native runner: no answer to ${what} in ${timeoutMs} ms`)), timeoutMs);
      const onExit = () => reject(new Error(`native runner exited during ${what}: ${stderr.trim()}`));
      child.once("exit", onExit);
      pending.push((line) => {
        clearTimeout(timer);
        child.off("exit", onExit);
        resolve(line);
      });
    });

  let mountpoint: string | undefined;
  const close = async () => {
    if (!exited) {
      child.stdin!.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exit;
      clearTimeout(timer);
    }
    // The runner's mounts went with its namespace; the empty directory they were on is left on the host's /tmp.
    if (mountpoint) {
      try {
        rmdirSync(mountpoint);
      } catch (error) {
        process.stderr.write(`native runner: could not remove ${mountpoint}: ${String(error)}\n`);
      }
    }
    mountpoint = undefined;
  };

  try {
    const ready = nativeReadySchema.parse(JSON.parse(await nextLine(READY_TIMEOUT_MS, "start-up")));
    mountpoint = ready.root;
    let queue: Promise<unknown> = Promise.resolve();
    return {
      execFloorMs: ready.execFloorMs,
      mountpoint: ready.root,
      measure: (request) => {
        const answer = queue.then(async () => {
          const line = nextLine(MEASURE_TIMEOUT_MS, `${request.language} measurement`);
          child.stdin!.write(`${JSON.stringify(request)}\n`);
          return nativeResponseSchema.parse(JSON.parse(await line));
        });
        queue = answer.catch(() => undefined);
        return answer;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
