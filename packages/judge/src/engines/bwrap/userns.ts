// The bwrap engine without root (cgroup v2, a delegated subtree): each session's
// supervisor creates a user namespace (native/userns-view.c) and the judge maps it from
// outside with the setuid-root newuidmap/newgidmap (Debian package `uidmap`):
//   ns 0                      -> the evaluator's own uid/gid (the supervisor and run inits)
//   ns uidBase + slot         -> subordinate id  start + slot                     (the program)
//   ns uidBase + 1000 + slot  -> subordinate id  start + HELPER_UID_OFFSET + slot (a paired run's helper)
// from the evaluator user's first range in /etc/subuid and /etc/subgid. So, as on the root
// path, every program runs as a uid of its own slot that is neither the evaluator's nor any
// other slot's, on the host as well as inside. Without newuidmap or subordinate ids the
// engine refuses to start (UserNamespaceUnavailableError names what to install or
// configure): one shared uid for the evaluator and its programs would let a program signal,
// ptrace or read whatever the evaluator runs, so there is no silent fallback.
//
// What a program can see that it cannot on the root path (facts, not access): the
// evaluator's host uid and the subordinate ids in /proc/self/uid_map and in the tmpfs
// options of mountinfo, and the host devtmpfs's size (derived from the RAM size) on the
// five device nodes, which are binds of the host's (a user namespace cannot mknod).
import { execFile } from "node:child_process";
import { accessSync, constants, readFileSync, statSync } from "node:fs";
import { userInfo } from "node:os";
import { promisify } from "node:util";
import { SandboxError } from "../../errors.js";

const exec = promisify(execFile);
const TOOL_DIRS = ["/usr/bin", "/bin", "/usr/sbin", "/sbin"];

/** A paired run's helper runs as uidBase + HELPER_UID_OFFSET + slot: never a program's uid. */
export const HELPER_UID_OFFSET = 1_000;

export const USERNS_REASONS = ["user-namespaces-disabled", "no-newuidmap", "no-subuid", "no-subgid", "too-few-ids", "cgroup", "map-failed"] as const;
export type UsernsReason = (typeof USERNS_REASONS)[number];

/** An unprivileged judge cannot sandbox here; the message says what to install or configure. */
export class UserNamespaceUnavailableError extends SandboxError {
  constructor(
    readonly reason: UsernsReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`bwrap engine (unprivileged): ${message}`, options);
  }
}

export interface IdRange {
  start: number;
  count: number;
}

/** The ranges of one user in an /etc/subuid or /etc/subgid text ("name-or-id:start:count" lines), in file order. */
export function parseSubordinateIds(text: string, user: { name: string; id: number }): IdRange[] {
  const ranges: IdRange[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const parts = line.split(":");
    if (parts.length !== 3) continue;
    const [owner, start, count] = parts as [string, string, string];
    if (owner !== user.name && owner !== String(user.id)) continue;
    if (!/^\d+$/.test(start) || !/^\d+$/.test(count)) continue;
    const range = { start: Number(start), count: Number(count) };
    // An id is 32 bits, and (uid_t)-1 is never a valid one.
    if (range.count > 0 && range.start > 0 && range.start + range.count <= 0xffff_ffff) ranges.push(range);
  }
  return ranges;
}

/** Subordinate ids a slot needs: its program's (offset slot) and its helper's (HELPER_UID_OFFSET + slot). */
export function slotsIn(range: IdRange): number {
  return Math.max(0, range.count - HELPER_UID_OFFSET);
}

export interface UsernsIdentity {
  user: string;
  uid: number;
  gid: number;
  uids: IdRange;
  gids: IdRange;
  newuidmap: string;
  newgidmap: string;
}

export interface UsernsProbe {
  /** Host files, for tests. */
  subuid?: string;
  subgid?: string;
  toolDirs?: readonly string[];
  procSys?: string;
  user?: { name: string; uid: number; gid: number };
}

function readOr(file: string, fallback: string | null): string | null {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return fallback;
  }
}

function findTool(name: string, dirs: readonly string[]): string | null {
  for (const dir of dirs) {
    const path = `${dir}/${name}`;
    try {
      if (!statSync(path).isFile()) continue;
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      /* not here */
    }
  }
  return null;
}

/** Whether this kernel lets an unprivileged user create user namespaces (the sysctls that switch it off). */
function userNamespacesRefused(procSys: string): string | null {
  if (readOr(`${procSys}/user/max_user_namespaces`, "1")?.trim() === "0") return "user.max_user_namespaces is 0";
  // Debian's own switch (kernels before 6.1 defaulted to off on some releases).
  if (readOr(`${procSys}/kernel/unprivileged_userns_clone`, "1")?.trim() === "0") return "kernel.unprivileged_userns_clone is 0";
  // Ubuntu 23.10+: AppArmor leaves such a namespace without capabilities unless a profile allows it.
  if (readOr(`${procSys}/kernel/apparmor_restrict_unprivileged_userns`, "0")?.trim() === "1") return "kernel.apparmor_restrict_unprivileged_userns is 1 (allow node in an AppArmor profile with `userns,`, or set it to 0)";
  return null;
}

/** Everything an unprivileged judge needs before its first session, or the typed reason it cannot work. */
export function resolveUserns(probe: UsernsProbe = {}): UsernsIdentity {
  const info = probe.user ?? (() => {
    const me = userInfo();
    return { name: me.username, uid: me.uid, gid: me.gid };
  })();
  const refused = userNamespacesRefused(probe.procSys ?? "/proc/sys");
  if (refused) throw new UserNamespaceUnavailableError("user-namespaces-disabled", `user namespaces are switched off (${refused})`);
  const dirs = probe.toolDirs ?? TOOL_DIRS;
  const newuidmap = findTool("newuidmap", dirs);
  const newgidmap = findTool("newgidmap", dirs);
  if (!newuidmap || !newgidmap) {
    throw new UserNamespaceUnavailableError("no-newuidmap", "newuidmap/newgidmap are not installed (Debian/Ubuntu: apt-get install uidmap; Fedora: shadow-utils); they map each slot's sandbox uid");
  }
  const user = { name: info.name, id: info.uid };
  const pick = (file: string, text: string | null, reason: "no-subuid" | "no-subgid"): IdRange => {
    const ranges = parseSubordinateIds(text ?? "", user);
    const how = `add a line "${info.name}:100000:65536" to ${file} (usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${info.name})`;
    if (ranges.length === 0) throw new UserNamespaceUnavailableError(reason, `${file} gives the user ${info.name} no subordinate ids: ${how}`);
    const usable = ranges.find((r) => slotsIn(r) > 0);
    if (!usable) throw new UserNamespaceUnavailableError("too-few-ids", `${file} gives ${info.name} no range of more than ${HELPER_UID_OFFSET} ids (each slot takes a program id and a helper id ${HELPER_UID_OFFSET} apart): ${how}`);
    return usable;
  };
  const uids = pick("/etc/subuid", probe.subuid ?? readOr("/etc/subuid", null), "no-subuid");
  const gids = pick("/etc/subgid", probe.subgid ?? readOr("/etc/subgid", null), "no-subgid");
  return { user: info.name, uid: info.uid, gid: info.gid, uids, gids, newuidmap, newgidmap };
}

/** The ns ids of one slot (as on the root path: uidBase + slot, and its helper HELPER_UID_OFFSET further). */
export interface SlotIds {
  slot: number;
  program: number;
  helper: number;
}

/** newuidmap/newgidmap arguments after the pid: "<ns> <host> <count>" triples. Throws when the slot is beyond the ranges. */
export function mapArguments(identity: UsernsIdentity, ids: SlotIds): { uid: string[]; gid: string[] } {
  const slots = Math.min(slotsIn(identity.uids), slotsIn(identity.gids));
  if (ids.slot >= slots) throw new UserNamespaceUnavailableError("too-few-ids", `slot ${ids.slot} needs more subordinate ids than /etc/subuid or /etc/subgid give ${identity.user} (${slots} slots)`);
  const triples = (own: number, range: IdRange) => [
    ["0", own, 1],
    [ids.program, range.start + ids.slot, 1],
    [ids.helper, range.start + HELPER_UID_OFFSET + ids.slot, 1],
  ].flat().map(String);
  return { uid: triples(identity.uid, identity.uids), gid: triples(identity.gid, identity.gids) };
}

/** Writes the supervisor's maps (it waits, dumpable, until they are there). */
export async function mapUserns(identity: UsernsIdentity, pid: number, ids: SlotIds): Promise<void> {
  const args = mapArguments(identity, ids);
  for (const [tool, list] of [[identity.newuidmap, args.uid], [identity.newgidmap, args.gid]] as const) {
    try {
      await exec(tool, [String(pid), ...list], { env: { PATH: "/usr/bin:/bin" }, timeout: 5_000 });
    } catch (error) {
      const stderr = ((error as { stderr?: string }).stderr ?? "").trim().slice(0, 300);
      throw new UserNamespaceUnavailableError("map-failed", `${tool.split("/").pop()} failed (${stderr || String(error)}): it must be setuid root, and the ids within ${identity.user}'s /etc/subuid and /etc/subgid ranges`, { cause: error });
    }
  }
}
