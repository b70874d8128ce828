// Per-slot persistent network namespaces and crash recovery (bwrap engine; needs root,
// bwrap, iproute2 and the runtime rootfs): concurrent sessions get different, empty
// namespaces and cannot reach each other's abstract unix sockets; loopback is down;
// close() leaves no namespace or run cgroup behind; stale ones are removed on start.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createBwrapEngine, type RunLimits, type SandboxSession } from "../src/index.js";
import { listNetns, netnsName } from "../src/sandbox/netns.js";
import { asText } from "./run-text.js";

const LIMITS: RunLimits = { cpuTimeMs: 3_000, wallTimeMs: 8_000, memoryBytes: 256 << 20, outputBytes: 1 << 20, processes: 16, fileSizeBytes: 1 << 20 };
const py = async (session: SandboxSession, code: string) => {
  const spec = { argv: ["/usr/bin/python3", "-c", code], stdin: "", limits: LIMITS, writableWorkDir: false };
  return asText(await session.run(spec), spec);
};

function memoryCgroupParent(): string | null {
  for (const line of readFileSync("/proc/self/mounts", "utf8").split("\n")) {
    const [, path, type, opts] = line.split(" ");
    if (type === "cgroup" && (opts ?? "").split(",").includes("memory")) return join(path!, "sonocode");
    if (type === "cgroup2") return join(path!, "sonocode");
  }
  return null;
}

const ownGroups = (pid: number) => {
  const parent = memoryCgroupParent();
  if (!parent || !existsSync(parent)) return [];
  return readdirSync(parent).filter((n) => n.startsWith(`run-${pid}-`));
};

describe("bwrap network namespaces", { concurrency: false }, () => {
  it("concurrent sessions get different persistent namespaces; abstract sockets do not cross", async () => {
    const engine = createBwrapEngine({});
    try {
      await engine.check();
      const a = await engine.open();
      const b = await engine.open();
      const nsOf = async (s: SandboxSession) => (await py(s, "import os; print(os.readlink('/proc/self/ns/net'))")).stdout.trim();
      const a1 = await nsOf(a);
      const a2 = await nsOf(a);
      const b1 = await nsOf(b);
      assert.match(a1, /^net:\[\d+\]$/);
      assert.equal(a1, a2, "runs of one slot reuse its namespace");
      assert.notEqual(a1, b1, "concurrent slots have different namespaces");

      const name = `sonocode-test-${randomBytes(6).toString("hex")}`;
      const server = py(
        a,
        [
          "import socket, time",
          "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
          `s.bind('\\0${name}')`,
          "s.listen(8)",
          "c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
          `c.connect('\\0${name}')`,
          "print('self-connect ok', flush=True)",
          "time.sleep(2.5)",
        ].join("\n"),
      );
      await new Promise((r) => setTimeout(r, 1000));
      const client = await py(
        b,
        [
          "import socket",
          "for _ in range(5):",
          "    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
          "    try:",
          `        c.connect('\\0${name}')`,
          "        print('CONNECTED')",
          "        break",
          "    except OSError as e:",
          "        print('refused', e.errno)",
          "import time; time.sleep(0.1)",
        ].join("\n"),
      );
      const served = await server;
      assert.match(served.stdout, /self-connect ok/, JSON.stringify(served));
      assert.ok(!client.stdout.includes("CONNECTED"), `a concurrent session reached another slot's abstract socket: ${client.stdout}`);
      assert.match(client.stdout, /refused/);

      // Loopback stays down and unconfigurable: nothing connects over 127.0.0.1, not even to itself.
      const lo = await py(
        a,
        [
          "import socket",
          // Binding 127.0.0.1 is allowed with lo down, but nothing can be routed to it.
          "s = socket.socket()",
          "s.bind(('127.0.0.1', 0)); s.listen(1)",
          "try:",
          "    socket.create_connection(s.getsockname(), timeout=0.5); print('CONNECTED')",
          "except OSError as e:",
          "    print('noconnect', e.errno)",
          "print(open('/proc/net/dev').read().count(':'))",
        ].join("\n"),
      );
      assert.match(lo.stdout, /noconnect/, lo.stdout + lo.stderr);
      assert.equal(lo.stdout.trim().split("\n").pop(), "1", "only lo exists");
      await a.dispose();
      await b.dispose();
      assert.equal(listNetns().filter((n) => n.startsWith(`sonocode-${process.pid}-`)).length, 2, "slot namespaces persist across sessions");
    } finally {
      await engine.close();
    }
    assert.deepEqual(listNetns().filter((n) => n.startsWith(`sonocode-${process.pid}-`)), [], "close() removes the slot namespaces");
    assert.deepEqual(ownGroups(process.pid), [], "no run cgroup is left behind");
  });

  it("removes namespaces and cgroups left by a crashed judge process, idempotently", async () => {
    // A pid that certainly belongs to no live process: one that has just exited.
    const dead = spawnSync("/bin/true").pid!;
    const staleNs = netnsName("deadbeef", 0, dead);
    execFileSync("ip", ["netns", "add", staleNs]);
    const parent = memoryCgroupParent();
    const staleGroup = parent ? join(parent, `run-${dead}-0123456789ab`) : null;
    if (staleGroup) mkdirSync(staleGroup, { recursive: true });
    const engine = createBwrapEngine({});
    try {
      await engine.check();
      assert.ok(!listNetns().includes(staleNs), "stale namespace removed");
      if (staleGroup) assert.ok(!existsSync(staleGroup), "stale cgroup removed");
      // A second engine in the same process starts cleanly over the first one's leftovers.
      const again = createBwrapEngine({});
      await again.check();
      await again.close();
    } finally {
      await engine.close();
      if (listNetns().includes(staleNs)) execFileSync("ip", ["netns", "delete", staleNs]);
    }
  });
});
