// bwrap's argument list for one run. Everything before "--" reaches bwrap through a
// sealed memfd (native/launcher.c, --args), so the mount layout shows in no command
// line; after "--" comes our run helper, which is pid 1 inside (--as-pid-1), then
// the program's argv.
import type { RunSpec } from "../../sandbox/sandbox.js";
import type { EngineMounts } from "./host-mounts.js";

/** The uid/gid the program sees inside the sandbox. */
export const SANDBOX_UID = 65534;
export const INFO_FD = 3;
export const STATUS_FD = 4;
/** The launcher reads bwrap's argument list from here (NUL-terminated strings, then EOF). */
export const CTL_FD = 5;
/** bwrap reads the seccomp filter from here (a fresh read-only open per run). */
export const SECCOMP_FD = 6;
export const HELPER_IN_SANDBOX = "/run/run";
const OPEN_FILES = 512;
const TMP_BYTES_RUN = 64 * 1024 * 1024;
const TMP_BYTES_WRITABLE = 512 * 1024 * 1024;
const SHM_BYTES = 16 * 1024 * 1024;
const BASE_ENV: Record<string, string> = { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: "/tmp", LANG: "C.UTF-8" };

export interface ArgvContext {
  mounts: EngineMounts;
  workDir: string;
  /** False: the launcher entered the slot's persistent netns; true: bwrap makes one per run. */
  unshareNet: boolean;
}

export function bwrapArgs(spec: RunSpec, ctx: ArgvContext): string[] {
  const writable = spec.writableWorkDir ?? true;
  const env = { ...BASE_ENV, ...(spec.env ?? {}) };
  const args = [
    // Every namespace but net: that one is the slot's persistent empty namespace, entered by the launcher.
    "--unshare-user",
    "--unshare-ipc",
    "--unshare-pid",
    "--unshare-uts",
    "--unshare-cgroup",
    "--disable-userns",
    "--uid", String(SANDBOX_UID),
    "--gid", String(SANDBOX_UID),
    "--hostname", "sandbox",
    "--die-with-parent",
    "--new-session",
    "--cap-drop", "ALL",
    // Our helper is pid 1: no bwrap process inside that the program could reach.
    "--as-pid-1",
    "--ro-bind", ctx.mounts.rootfs, "/",
    "--proc", "/proc",
    "--dev-bind", ctx.mounts.dev, "/dev",
    "--size", String(SHM_BYTES), "--tmpfs", "/dev/shm",
    "--size", String(writable ? TMP_BYTES_WRITABLE : TMP_BYTES_RUN), "--tmpfs", "/tmp",
    writable ? "--bind" : "--ro-bind", ctx.workDir, "/box",
    "--ro-bind", ctx.mounts.run, "/run",
    "--chdir", "/box",
    "--clearenv",
  ];
  if (ctx.unshareNet) args.push("--unshare-net");
  for (const [key, value] of Object.entries(env)) args.push("--setenv", key, value);
  // The filter is installed by bwrap last thing before exec, in the helper (inherited by all it runs).
  args.push("--info-fd", String(INFO_FD), "--seccomp", String(SECCOMP_FD));
  const stackBytes = Math.min(spec.limits.memoryBytes, 1 << 30);
  const cpuSeconds = Math.ceil(spec.limits.cpuTimeMs / 1000) + 1;
  args.push("--", HELPER_IN_SANDBOX, String(STATUS_FD), String(spec.limits.fileSizeBytes), String(OPEN_FILES), String(stackBytes), String(cpuSeconds), "--", ...spec.argv);
  return args;
}
