// What a bwrap-engine run looks like inside, whichever way it is started: the
// environment, the size of its fresh /tmp, the open-files limit, and which names the
// host may write into the work dir (through the supervisor: native/session-box.c).
import { SandboxError } from "../../errors.js";
import type { RunSpec } from "../../sandbox/sandbox.js";
import type { RunMessage } from "./supervisor.js";

export const RUN_OPEN_FILES = 512;
const TMP_BYTES_RUN = 64 * 1024 * 1024;
const TMP_BYTES_WRITABLE = 512 * 1024 * 1024;
const BASE_ENV: Record<string, string> = { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: "/tmp", LANG: "C.UTF-8" };
const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** The program's whole environment: nothing of the judge's, only PATH/HOME/LANG and the language's own. */
export function runEnv(spec: Pick<RunSpec, "env">): string[] {
  return Object.entries({ ...BASE_ENV, ...(spec.env ?? {}) }).map(([key, value]) => `${key}=${value}`);
}

/** A compile may need room in /tmp; a test gets less. */
export function tmpBytes(spec: Pick<RunSpec, "writableWorkDir">): number {
  return (spec.writableWorkDir ?? true) ? TMP_BYTES_WRITABLE : TMP_BYTES_RUN;
}

/** What the run's init needs of a spec (its stdin is the caller's part). */
export function runMessage(spec: Omit<RunSpec, "stdin">): Omit<RunMessage, "stdin"> {
  const { limits } = spec;
  return {
    writable: spec.writableWorkDir ?? true,
    fileSizeBytes: limits.fileSizeBytes,
    openFiles: RUN_OPEN_FILES,
    stackBytes: Math.min(limits.memoryBytes, 1 << 30),
    cpuSeconds: Math.ceil(limits.cpuTimeMs / 1000) + 1,
    tmpBytes: tmpBytes(spec),
    argv: spec.argv,
    env: runEnv(spec),
  };
}

/** A work-dir file name the host may write (no path, no dot file). */
export function checkWorkFileName(name: string): void {
  if (!SAFE_NAME.test(name)) throw new SandboxError("invalid sandbox file name");
}
