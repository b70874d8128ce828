// Persistent, empty network namespaces, one per bwrap session slot.
//
// Creating a network namespace costs 1.6-3.4 ms, so each slot gets one, created once
// (by root, with `ip netns add`, which leaves loopback DOWN and adds no interface) and
// entered by each session's supervisor (native/supervisor.c) before any run starts. Such a namespace is owned by the initial user namespace: the sandbox
// holds no capability over it and cannot configure it. Never share one between slots:
// abstract unix sockets are scoped by network namespace, so concurrent runs could talk.
// Sequential runs in one slot are fine: nothing survives a run (cgroup kill), and a
// socket dies with its last process.
//
// Names are sonocode-<pid>-<engine token>-<slot>: several judge processes on one host,
// or several engines in one process, never share a namespace, and namespaces left
// behind by a crashed process (its pid is gone, or it is our pid but not a token of a
// live engine here: pid reuse after a restart) are recognised and removed (removeStaleNetns).
import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { promisify } from "node:util";
import { randomBytes } from "node:crypto";
import { processAlive } from "./owner.js";

const run = promisify(execFile);
export const NETNS_DIR = "/run/netns";
const PREFIX = "sonocode-";
const IP_CANDIDATES = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"];

function ipPath(): string | null {
  return IP_CANDIDATES.find((p) => existsSync(p)) ?? null;
}

/** Tokens of the engines alive in this process. */
const liveTokens = new Set<string>();

export function newNetnsToken(): string {
  const token = randomBytes(4).toString("hex");
  liveTokens.add(token);
  return token;
}

export function releaseNetnsToken(token: string): void {
  liveTokens.delete(token);
}

export function netnsName(token: string, slot: number, pid = process.pid): string {
  return `${PREFIX}${pid}-${token}-${slot}`;
}

export function netnsPath(name: string): string {
  return `${NETNS_DIR}/${name}`;
}

/** Names of the sonocode namespaces that currently exist on this host. */
export function listNetns(): string[] {
  try {
    return readdirSync(NETNS_DIR).filter((n) => n.startsWith(PREFIX));
  } catch {
    return [];
  }
}

export async function deleteNetns(name: string): Promise<void> {
  const ip = ipPath();
  if (!ip || !existsSync(netnsPath(name))) return;
  await run(ip, ["netns", "delete", name], { env: {} });
}

/**
 * Removes namespaces whose owning process is gone, and any carrying our own pid (left by
 * an earlier process that had the same pid): idempotent recovery after a crash.
 */
export async function removeStaleNetns(): Promise<string[]> {
  const removed: string[] = [];
  for (const name of listNetns()) {
    const match = /^sonocode-(\d+)-([0-9a-f]+)-\d+$/.exec(name);
    if (!match) continue;
    const pid = Number(match[1]);
    if (pid === process.pid ? liveTokens.has(match[2]!) : processAlive(pid)) continue;
    try {
      await deleteNetns(name);
      removed.push(name);
    } catch {
      /* busy or already gone: the next start retries */
    }
  }
  return removed;
}

/** Creates (or recreates, if a stale one exists) the slot's empty namespace; returns its path, or null if `ip netns` is unusable here. */
export async function createNetns(name: string): Promise<string | null> {
  const ip = ipPath();
  if (!ip) return null;
  try {
    if (existsSync(netnsPath(name))) await deleteNetns(name);
    await run(ip, ["netns", "add", name], { env: {} });
    // ip leaves lo DOWN; assert it rather than trust it.
    const { stdout } = await run(ip, ["-n", name, "-o", "link", "show"], { env: {} });
    const lines = stdout.split("\n").filter(Boolean);
    if (lines.length !== 1 || !/: lo: /.test(lines[0]!) || /[<,]UP[,>]/.test(lines[0]!)) {
      await deleteNetns(name).catch(() => undefined);
      throw new Error(`unexpected interfaces in a fresh netns: ${stdout}`);
    }
    return netnsPath(name);
  } catch (error) {
    if ((error as Error).message.startsWith("unexpected interfaces")) throw error;
    return null;
  }
}
