// npm run test:vm: builds (or reuses) the cgroup v2 guest, boots it under QEMU with only
// the unified hierarchy, runs the judge's sandbox suites inside and exits non-zero on any
// failure. KVM is used only if a probe boot answers quickly (nested KVM can hang here);
// otherwise TCG. Everything the guest prints comes back over its serial console.
//   node scripts/vm/run-vm.mjs                          the default plan (see PLANS)
//   node scripts/vm/run-vm.mjs --full                   every bwrap suite (timing-bound ones fail under TCG)
//   node scripts/vm/run-vm.mjs --docker                 the default plan plus the Docker engine on v2 (dockerd in the guest)
//   node scripts/vm/run-vm.mjs --compose                compose.yaml's stack in the guest, judging through its ports (alone;
//                                                       with --full/--docker/--root/--user: after those)
//   node scripts/vm/run-vm.mjs --systemd                systemd as PID 1: deploy/systemd's two units installed as documented,
//                                                       judging real BullMQ jobs (alone; guest-systemd.sh, systemd-units.test.ts)
//   node scripts/vm/run-vm.mjs --root a.test.ts,b.test.ts@^name$ --user c.test.ts
// Env: SONOCODE_VM_ACCEL=kvm|tcg (skip the probe), SONOCODE_VM_CPUS (2), SONOCODE_VM_MEMORY (4G),
//      SONOCODE_VM_TIMEOUT_S (2400), SONOCODE_VM_DIR (/var/lib/sonocode/vm),
//      SONOCODE_VM_TCG_THREAD (single; multi: one host thread per vCPU), SONOCODE_VM_TCG_CPU (max).
import { spawn, spawnSync } from "node:child_process";
import { accessSync, constants, createWriteStream, mkdirSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { StringDecoder } from "node:string_decoder";

const root = new URL("../..", import.meta.url).pathname;
const vmDir = process.env.SONOCODE_VM_DIR ?? "/var/lib/sonocode/vm";
const cpus = process.env.SONOCODE_VM_CPUS ?? "2";
const memory = process.env.SONOCODE_VM_MEMORY ?? "4G";
const timeoutS = Number(process.env.SONOCODE_VM_TIMEOUT_S ?? 2400);
// TCG runs the guest's vCPUs on one host thread (thread=single), not one thread each: with
// multi-threaded TCG (QEMU 7.2) Node processes in the guest died of SIGSEGV now and then (2 of
// 90 tsx start-ups; a test file's process or a judge it spawned in 5 of the last 7 default-plan
// runs, 2026-12-03/04), and inside tsx's wasm lexer the same fault is its "memory access out of
// bounds" (on tsx's hooks thread, we think, it left a judge process hanging). A fixed CPU model
// (qemu64, no AVX) did not help. thread=single: 3 of 3 runs clean, 10-20% more guest time.
const tcgThread = process.env.SONOCODE_VM_TCG_THREAD ?? "single";
const tcgCpu = process.env.SONOCODE_VM_TCG_CPU ?? "max";

const judgeTests = join(root, "packages/judge/test");
const sandboxTests = readdirSync(judgeTests)
  // Every bwrap suite (languages, verdicts, attacks, netns) and the seccomp tests (their Docker half skips: no daemon in the guest).
  .filter((f) => (f.startsWith("bwrap.") && f.endsWith(".test.ts")) || f === "seccomp.test.ts")
  .sort()
  .map((f) => relative(root, join(judgeTests, f)));
const CGROUP_TEST = "packages/judge/test/cgroup.v2.test.ts";
const EVALUATOR_TEST = "services/evaluator-service/test/evaluator-judging.test.ts";
/** As the delegated user: how far the kernel lets an unprivileged evaluator go (user namespaces, overlay, pivot_root, its run group). */
const USERNS_TEST = "scripts/vm/delegated-userns.test.ts";
/**
 * The judge as the delegated user: the bwrap engine's user-namespace mode (engines/bwrap/userns.ts),
 * with the same suites TCG allows as root. bwrap.netns is root-only (`ip netns`); the user-namespace
 * supervisor makes its own netns.
 */
const UNPRIVILEGED_TESTS = [
  "packages/judge/test/bwrap.userns.test.ts",
  "packages/judge/test/bwrap.supervisor.test.ts",
  "packages/judge/test/seccomp.test.ts",
  "packages/judge/test/bwrap.languages.test.ts@^C$",
];
const UNPRIVILEGED_FULL = ["packages/judge/test/bwrap.userns.test.ts", ...sandboxTests.filter((f) => !f.endsWith("bwrap.netns.test.ts"))];
/**
 * What runs where. root: the judge as root on v2; user: the delegated subtree as an unprivileged user.
 * The default fits TCG on 2 shared cores: under emulation programs run 20-100x slower, so the
 * suites whose verdicts depend on 1-2 s CPU limits or the 10 s compile limit (attack corpus,
 * verdict corpus, the JIT/VM languages) report TLE/CE there. It keeps what TCG cannot distort:
 * the cgroup v2 tests, slot CPU pinning, the persistent supervisor's isolation tests, the netns and seccomp suites, every verdict of one language (C: Success,
 * WA, CE, RE, TLE, MLE), and the evaluator over a real BullMQ round trip. --full runs everything.
 */
const PLANS = {
  default: {
    root: [
      CGROUP_TEST,
      "packages/judge/test/cgroup.cpuset.test.ts",
      "packages/judge/test/bwrap.supervisor.test.ts",
      "packages/judge/test/bwrap.netns.test.ts",
      "packages/judge/test/seccomp.test.ts",
      "packages/judge/test/bwrap.languages.test.ts@^C$",
      EVALUATOR_TEST,
    ],
    user: [CGROUP_TEST, USERNS_TEST, ...UNPRIVILEGED_TESTS],
  },
  full: { root: [CGROUP_TEST, ...sandboxTests, EVALUATOR_TEST], user: [CGROUP_TEST, USERNS_TEST, ...UNPRIVILEGED_FULL] },
};
/**
 * --docker: dockerd from Debian's docker.io runs in the guest (cgroupfs driver on v2, the
 * runtime image preloaded into its data root on the host, build-guest.sh) and the Docker
 * engine's own suite runs on top of the plan: hardening, per-run memory limits and peaks from
 * the container's v2 cgroup (page cache not counted), fresh IPC, output and CPU limits,
 * nothing surviving a run, fork bomb, mountinfo. Left out, as TCG distorts them: the cases
 * that assert run times ("compile once, run many" asserts < 200 ms of CPU per A+B run, the
 * wall-limit case < 6 s end to end, "nothing survives a run" a spawning run within 1.5 s of
 * a plain one) and compiles (gcc needs more than the 10 s compile limit
 * under emulation on a loaded host; docker.languages).
 */
const DOCKER_TESTS = [
  "packages/judge/test/docker.engine.test.ts@hardened|unprivileged|mountinfo|environment|big|signals|CPU|memory|IPC|flood|size|leftovers|bomb|session$|writeFile|argv|dispose|fails",
];

function parseArgs(argv) {
  const args = [...argv];
  const flags = new Set();
  while (["--full", "--docker", "--compose", "--systemd"].includes(args[0])) flags.add(args.shift());
  const [full, docker, compose, systemd] = ["--full", "--docker", "--compose", "--systemd"].map((flag) => flags.has(flag));
  // --systemd: systemd is PID 1 in that boot, so none of guest-init.sh's plans run in it.
  if (systemd) {
    if (flags.size > 1 || args.length > 0) throw new Error("--systemd runs alone (its boot has systemd as PID 1, not guest-init.sh)");
    return { root: [], user: [], docker: false, compose: false, systemd: true };
  }
  // --compose on its own boots for the compose suite only (guest-compose.sh).
  const base = full ? PLANS.full : compose && !docker ? { root: [], user: [] } : PLANS.default;
  const plan = { root: [...base.root, ...(docker ? DOCKER_TESTS : [])], user: [...base.user], docker, compose, systemd: false };
  for (let i = 0; i < args.length; i += 2) {
    const key = args[i]?.replace(/^--/, "");
    if (key !== "root" && key !== "user") throw new Error(`unknown option ${args[i]} (use [--full] [--docker] [--root entries] [--user entries])`);
    plan[key] = (args[i + 1] ?? "").split(",").filter(Boolean);
  }
  // file or file@name-pattern; nothing that could break the kernel command line.
  for (const entry of [...plan.root, ...plan.user]) {
    if (!/^[\w./-]+\.test\.ts(@[\w^$.*+?()|\[\]-]+)?$/.test(entry)) throw new Error(`not a test file (or file@pattern): ${entry}`);
  }
  return plan;
}

const seconds = (ms) => (ms / 1000).toFixed(1);

function buildGuest(plan) {
  const started = Date.now();
  const env = { ...process.env, SONOCODE_VM_DOCKER: plan.docker ? "1" : "0", SONOCODE_VM_COMPOSE: plan.compose ? "1" : "0" };
  const result = spawnSync("bash", [join(root, "scripts/vm/build-guest.sh")], { cwd: root, env, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
  if (result.status !== 0) throw new Error("guest build failed");
  const out = Object.fromEntries(result.stdout.trim().split("\n").map((line) => line.split(/=(.*)/s).slice(0, 2)));
  console.log(`[vm] guest ready in ${seconds(Date.now() - started)} s`);
  return out;
}

function qemuArgs(guest, accel, append) {
  const disk = (file, serial, opts) => [
    "-drive", `file=${file},if=none,id=${serial},format=raw,${opts}`,
    "-device", `virtio-blk-pci,drive=${serial},serial=${serial}`,
  ];
  return [
    "-machine", "q35",
    "-accel", accel === "kvm" ? "kvm" : `tcg,thread=${tcgThread}`,
    "-cpu", accel === "kvm" ? "max" : tcgCpu,
    "-smp", cpus,
    "-m", memory,
    "-nodefaults", "-no-reboot", "-display", "none", "-serial", "stdio", "-monitor", "none",
    "-kernel", guest.kernel,
    "-initrd", guest.initrd,
    "-append", append,
    ...disk(guest.system, "sys", "snapshot=on"),
    ...disk(guest.runtime, "rt", "readonly=on"),
    ...disk(guest.project, "src", "snapshot=on"),
    // The Docker data root: written to (containers' layers), never changed on the host.
    ...(guest.docker ? disk(guest.docker, "dkr", "snapshot=on") : []),
  ];
}

/** Boots the guest; calls onLine for every serial line; resolves when QEMU exits or the timeout kills it. */
function boot(guest, accel, append, timeoutMs, onLine) {
  return new Promise((resolve) => {
    const qemu = spawn("qemu-system-x86_64", qemuArgs(guest, accel, append), { stdio: ["ignore", "pipe", "pipe"] });
    let buffer = "";
    let timedOut = false;
    // One decoder per stream: a multi-byte character may be split across chunks.
    const decoders = [new StringDecoder("utf8"), new StringDecoder("utf8")];
    const timer = setTimeout(() => {
      timedOut = true;
      qemu.kill("SIGKILL");
    }, timeoutMs);
    const feed = (decoder, chunk) => {
      buffer += decoder.write(chunk).replace(/\r/g, "");
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (onLine(line, qemu) === "stop") qemu.kill("SIGKILL");
      }
    };
    qemu.stdout.on("data", (chunk) => feed(decoders[0], chunk));
    qemu.stderr.on("data", (chunk) => feed(decoders[1], chunk));
    qemu.on("close", (code) => {
      clearTimeout(timer);
      if (buffer) onLine(buffer, qemu);
      resolve({ code, timedOut });
    });
  });
}

/** KVM only if a probe guest reaches its init quickly; nested KVM on our hosts hangs at boot. */
async function chooseAccel(guest) {
  const forced = process.env.SONOCODE_VM_ACCEL;
  if (forced === "kvm" || forced === "tcg") return forced;
  try {
    accessSync("/dev/kvm", constants.R_OK | constants.W_OK);
  } catch {
    return "tcg";
  }
  let ok = false;
  let last = "";
  const started = Date.now();
  const { timedOut } = await boot(guest, "kvm", "console=ttyS0 quiet panic=-1 sonocode.probe", 15_000, (line) => {
    if (line.includes("SONOCODE-PROBE-OK")) {
      ok = true;
      return "stop";
    }
    if (line.trim()) last = line.trim();
    return undefined;
  });
  const why = timedOut ? "no answer in 15 s" : `failed${last ? `: ${last}` : ""}`;
  console.log(`[vm] KVM probe: ${ok ? "boots" : why} (${seconds(Date.now() - started)} s)${ok ? "" : ", using TCG"}`);
  return ok ? "kvm" : "tcg";
}

async function main() {
  const plan = parseArgs(process.argv.slice(2));
  const guest = buildGuest(plan);
  const accel = await chooseAccel(guest);
  mkdirSync(vmDir, { recursive: true });
  const logPath = join(vmDir, "last-run.log");
  const log = createWriteStream(logPath);
  const append = [
    "console=ttyS0", "quiet", "loglevel=3", "panic=-1",
    // Only the unified hierarchy: no v1 controller can be mounted at all.
    "systemd.unified_cgroup_hierarchy=1", "cgroup_no_v1=all",
    `sonocode.runtime=${guest.runtime_name}`,
    `sonocode.root=${plan.root.join(",")}`,
    `sonocode.user=${plan.user.join(",")}`,
    // dockerd (and the Docker data-root disk) for the Docker engine's tests and for compose.
    ...(plan.docker || plan.compose ? ["sonocode.docker=1"] : []),
    ...(plan.compose ? ["sonocode.compose=1"] : []),
    // systemd as PID 1 (guest-systemd.sh): quiet about its own progress, the report owns the console.
    ...(plan.systemd ? ["sonocode.systemd=1", "systemd.show_status=error"] : []),
  ].join(" ");
  console.log(`[vm] booting (${accel}, ${cpus} CPUs, ${memory}); serial log: ${logPath}`);
  const suites = [];
  const failed = [];
  const retried = [];
  let done = null;
  let fatal = null;
  const started = Date.now();
  let bootedMs = null;
  const { code, timedOut } = await boot(guest, accel, append, timeoutS * 1000, (line) => {
    log.write(`${line}\n`);
    process.stdout.write(`${line}\n`);
    if (bootedMs === null && line.startsWith("SONOCODE-VM-INFO booted")) bootedMs = Date.now() - started;
    let m;
    if ((m = /^SONOCODE-VM-SUITE name=(\S+) rc=(\d+) pass=(\d+) fail=(\d+) seconds=(\d+)/.exec(line))) {
      suites.push({ name: m[1], rc: Number(m[2]), pass: Number(m[3]), fail: Number(m[4]), seconds: Number(m[5]) });
    } else if (line.startsWith("SONOCODE-VM-FAILED ")) failed.push(line.slice("SONOCODE-VM-FAILED ".length));
    else if ((m = /^SONOCODE-VM-DONE rc=(\d+)/.exec(line))) done = Number(m[1]);
    else if (line.startsWith("SONOCODE-VM-FATAL")) fatal = line;
    else if (line.startsWith("SONOCODE-VM-RETRY ")) retried.push(line.slice("SONOCODE-VM-RETRY ".length));
    return undefined;
  });
  log.end();
  const totalMs = Date.now() - started;

  console.log("\n[vm] ---- summary ----");
  console.log(`[vm] accel=${accel}${accel === "kvm" ? "" : ` (thread=${tcgThread}, cpu ${tcgCpu})`}; boot to init ${bootedMs === null ? "?" : seconds(bootedMs)} s; guest run ${seconds(totalMs)} s`);
  for (const s of suites) console.log(`[vm] suite ${s.name}: ${s.pass} passed, ${s.fail} failed, rc=${s.rc}, ${s.seconds} s`);
  for (const f of failed) console.log(`[vm]   not ok: ${f}`);
  for (const r of retried) console.log(`[vm]   retried: ${r}`);
  if (fatal) console.log(`[vm] ${fatal}`);
  if (timedOut) console.log(`[vm] timed out after ${timeoutS} s`);
  const expected = [...["root", "user"].filter((name) => plan[name].length > 0), ...(plan.compose ? ["compose"] : []), ...(plan.systemd ? ["systemd"] : [])];
  const missing = expected.filter((name) => !suites.some((s) => s.name === name));
  for (const name of missing) console.log(`[vm] suite ${name}: no result (guest died or timed out; see ${logPath})`);
  const pass = suites.reduce((n, s) => n + s.pass, 0);
  const fail = suites.reduce((n, s) => n + s.fail, 0) + missing.length;
  console.log(`vm: ${pass} passed, ${fail} failed`);
  const ok = !timedOut && done === 0 && missing.length === 0 && suites.every((s) => s.rc === 0 && s.fail === 0) && code !== null;
  process.exit(ok ? 0 : 1);
}

main().catch((error) => {
  console.error(`[vm] ${error.message}`);
  process.exit(1);
});
