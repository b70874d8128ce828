// Runs the attack corpus (attacks.corpus.ts) against one engine: a host context
// (canary files, a TCP server on 127.0.0.1, secrets in the judge's environment, the
// host paths no sandbox may show), every attack, and after each one a normal
// submission that must still be judged right and promptly.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server } from "node:net";
import { after, before, describe, it } from "node:test";
import type { JudgeRequest } from "@sonocode/contracts";
import { DEFAULT_ROOTFS, type Judge, type SandboxEngine } from "../src/index.js";
import { ATTACKS, assertStatus, hostProcessesWith, SAFE, type AttackContext } from "./attacks.corpus.js";
import { textSession } from "./run-text.js";

const AB: JudgeRequest = {
  language: "PYTHON",
  source: "a, b = map(int, input().split())\nprint(a + b)",
  tests: [
    { input: "2 3\n", output: "5\n" },
    { input: "10 -4\n", output: "6\n" },
  ],
};

export interface AttackSuiteOptions {
  engine: "bwrap" | "docker";
  makeJudge: () => Promise<Judge>;
  /** The bare engine, for the host-side symlink test. */
  makeEngine: () => SandboxEngine;
}

/** What the host knows about itself that no sandbox may show: see AttackContext.hostNeedles. */
function hostNeedles(): string[] {
  const needles = [realpathSync(DEFAULT_ROOTFS), "/var/lib/sonocode", join(tmpdir(), "sonocode-judge"), "/var/lib/docker/containers", "docker-init", "tini-static"];
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const [left, right] = line.split(" - ");
    const fields = left?.split(" ") ?? [];
    const [, source, options] = right?.split(" ") ?? [];
    // The host root's block device, and devtmpfs's size (derived from the RAM size).
    if (fields[4] === "/" && source?.startsWith("/dev/")) needles.push(source);
    // Not when unprivileged: the user-namespace mode cannot mknod, so its five devices are binds
    // of the host's devtmpfs nodes and mountinfo shows that filesystem's size (a documented
    // difference, engines/bwrap/userns.ts); paths, the block device and the rest still count.
    if (right?.startsWith("devtmpfs") && (process.getuid?.() ?? 0) === 0) {
      const size = /size=\d+k/.exec(options ?? "")?.[0];
      if (size) needles.push(size);
    }
  }
  return needles;
}

function createContext(): { ctx: AttackContext; cleanup: () => void; server: Server } {
  const secret = `canary-${randomBytes(12).toString("hex")}`;
  const hostCanaryDir = `/tmp/sonocode-canary-dir-${randomBytes(4).toString("hex")}`;
  // The second canary in the judge's own home: /root for root, the evaluator user's home when unprivileged (user-namespace mode).
  const home = (process.getuid?.() ?? 0) === 0 ? "/root" : homedir();
  const hostCanaryPaths = [`/tmp/sonocode-canary-${randomBytes(4).toString("hex")}`, `${home}/sonocode-canary-${randomBytes(4).toString("hex")}`];
  for (const p of hostCanaryPaths) writeFileSync(p, `${secret}\n`, { mode: 0o644 });
  mkdirSync(hostCanaryDir);
  writeFileSync(`${hostCanaryDir}/keep.txt`, secret);
  const envSecrets = {
    JWT_SECRET: `jwt-${randomBytes(8).toString("hex")}`,
    REDIS_URL: `redis://:${randomBytes(8).toString("hex")}@127.0.0.1:6379`,
    DATABASE_URL: `postgres://u:${randomBytes(8).toString("hex")}@127.0.0.1/db`,
  };
  const previous = Object.fromEntries(Object.keys(envSecrets).map((k) => [k, process.env[k]]));
  Object.assign(process.env, envSecrets);
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  const ctx: AttackContext = {
    secret,
    hostCanaryPaths,
    hostCanaryDir,
    tcpPort: 0,
    tcpConnections: () => connections,
    marker: `31.${Date.now()}${randomBytes(3).readUIntBE(0, 3)}`,
    envSecrets,
    hostNeedles: hostNeedles(),
  };
  const cleanup = () => {
    for (const p of hostCanaryPaths) rmSync(p, { force: true });
    rmSync(hostCanaryDir, { recursive: true, force: true });
    for (const [k, v] of Object.entries(previous)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    server.close();
  };
  return { ctx, cleanup, server };
}

/** Registers the attack suite with node:test for one engine. */
export function defineAttackSuite(options: AttackSuiteOptions): void {
  describe(`attack corpus (${options.engine})`, () => {
    let judge: Judge;
    let ctx: AttackContext;
    let cleanup: () => void;

    before(async () => {
      const made = createContext();
      ctx = made.ctx;
      cleanup = made.cleanup;
      await new Promise<void>((resolve) => made.server.listen(0, "127.0.0.1", resolve));
      const address = made.server.address();
      ctx.tcpPort = typeof address === "object" && address ? address.port : 0;
      judge = await options.makeJudge();
      assert.equal(judge.engine, options.engine);
    });
    after(async () => {
      await judge?.close();
      cleanup?.();
    });

    for (const attack of ATTACKS) {
      it(attack.name, async () => {
        const started = Date.now();
        const verdict = await judge.judge(attack.request(ctx));
        const took = Date.now() - started;
        await attack.check(verdict, ctx);
        assert.ok(took <= (attack.maxMs ?? 15_000), `judging the attack took ${took} ms`);
        assert.notEqual(verdict.status, "IE", "an attack must never look like an engine failure");

        // The judge still works, right and promptly.
        const t0 = Date.now();
        const normal = await judge.judge(AB);
        assert.equal(normal.status, "Success", JSON.stringify(normal));
        assert.equal(normal.passed, 2);
        assert.ok(Date.now() - t0 < 10_000, "a normal submission after the attack was slow");
        assert.deepEqual(hostProcessesWith(ctx.marker), []);
      });
    }

    it("host side never follows symlinks planted in the work dir", async () => {
      const engine = options.makeEngine();
      await engine.check();
      const session = textSession(await engine.open());
      try {
        const planted = await session.run({
          argv: ["/usr/bin/python3", "-c", `import os\nos.symlink(${JSON.stringify(ctx.hostCanaryDir)}, '/box/link')\nos.symlink(${JSON.stringify(ctx.hostCanaryPaths[0])}, '/box/main.py')\nos.symlink('/etc/passwd', '/box/out.txt')`],
          stdin: "",
          limits: { cpuTimeMs: 2000, wallTimeMs: 5000, memoryBytes: 128 << 20, outputBytes: 1 << 20, processes: 16, fileSizeBytes: 1 << 20 },
          writableWorkDir: true,
        });
        assert.equal(planted.exitCode, 0, planted.stderr);
        // Writing a file whose name is a planted symlink must fail, not write through it.
        await assert.rejects(session.writeFile("main.py", "print('overwritten')"));
        assert.equal(readFileSync(ctx.hostCanaryPaths[0]!, "utf8"), `${ctx.secret}\n`);
      } finally {
        await session.dispose();
        await engine.close();
      }
      // Cleanup removed the links, not what they point at.
      assert.ok(existsSync(`${ctx.hostCanaryDir}/keep.txt`), "dispose followed a symlink into a host directory");
      assert.ok(existsSync("/etc/passwd"));
    });

    it("concurrent submissions cannot see each other", async () => {
      const victim = judge.judge({
        language: "PYTHON",
        source: `import time\nSECRET = ${JSON.stringify(ctx.secret)}\ntime.sleep(1.5)\nprint('SAFE')`,
        tests: SAFE,
        timeLimitMs: 2000,
      });
      await new Promise((r) => setTimeout(r, 300));
      const spy = await judge.judge({
        language: "PYTHON",
        source: [
          "import os",
          "found = []",
          "for root in ('/box', '/tmp', '/proc'):",
          "    for dirpath, dirs, files in os.walk(root):",
          "        if dirpath.startswith('/proc/') and dirpath.count('/') > 2: continue",
          "        for f in files:",
          "            try:",
          // The needle is stored reversed so the spy's own source never matches.
          `                if ${JSON.stringify([...ctx.secret].reverse().join(""))}[::-1].encode() in open(os.path.join(dirpath, f), 'rb').read(1 << 20): found.append(os.path.join(dirpath, f))`,
          "            except OSError:",
          "                pass",
          "pids = [p for p in os.listdir('/proc') if p.isdigit()]",
          "print('LEAK ' + repr(found) + repr(pids) if found or len(pids) > 4 else 'SAFE')",
        ].join("\n"),
        tests: SAFE,
      });
      assertStatus(spy, ["Success"]);
      assertStatus(await victim, ["Success"]);
    });
  });
}
