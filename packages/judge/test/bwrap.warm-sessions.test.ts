// warmSessions on the real bwrap engine: the next submission's sandbox is opened while the
// judge is idle and a submission starts on it (no open on its path); a session opened ahead
// and left idle judges exactly like a fresh one; each is used once and torn down after its
// verdict; close() leaves no supervisor or session behind. Needs root and the runtime rootfs.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import type { JudgeRequest } from "@sonocode/contracts";
import { eventually } from "@sonocode/testkit";
import { createBwrapEngine, createJudgeWithEngine, type Judge, type JudgeTimings, type SandboxEngine, type SandboxSession } from "../src/index.js";

/** Supervisors this process started (one per live bwrap session). */
function supervisors(): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === process.pid && readFileSync(`/proc/${entry}/cmdline`, "latin1") === "sonocode-supervisor\0") found.push(Number(entry));
    } catch {
      /* exited meanwhile */
    }
  }
  return found;
}

const AB_C = (wrong: boolean): JudgeRequest => ({
  language: "C",
  source: `#include <stdio.h>\nint main(void){long a,b;if(scanf("%ld %ld",&a,&b)!=2)return 1;printf("%ld\\n",a+b${wrong ? "+1" : ""});return 0;}`,
  tests: [
    { input: "2 3\n", output: "5\n" },
    { input: "10 -4\n", output: "6\n" },
  ],
});

describe("bwrap judge with warm sessions", { concurrency: false }, () => {
  let engine: SandboxEngine;
  let judge: Judge;
  let opens = 0;
  let disposals = 0;
  const live = new Set<SandboxSession>();

  before(async () => {
    engine = createBwrapEngine({});
    await engine.check();
    // The real engine, counting what the judge opens and disposes.
    const counting: SandboxEngine = {
      name: engine.name,
      check: () => engine.check(),
      runtimeIdentity: () => engine.runtimeIdentity!(),
      close: () => engine.close(),
      open: async (options) => {
        opens++;
        const session = await engine.open(options);
        live.add(session);
        const dispose = session.dispose.bind(session);
        session.dispose = async () => {
          if (live.delete(session)) disposals++;
          await dispose();
        };
        return session;
      },
    };
    judge = createJudgeWithEngine(counting, { maxConcurrency: 1, warmSessions: true });
  });
  after(async () => {
    await judge?.close();
  });

  it("a submission starts on the session opened ahead, and the next one is opened after its verdict", async () => {
    await eventually(() => (live.size === 1 ? true : null), "the free slot's session to be opened ahead", 20_000);
    assert.equal(opens, 1);
    // Idle for a while before use: a warm session must judge like a fresh one.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const timings: JudgeTimings = {};
    const verdict = await judge.judge(AB_C(false), { timings });
    assert.equal(verdict.status, "Success", JSON.stringify(verdict));
    assert.equal(verdict.passed, 2);
    assert.equal(opens, 1, "no session was opened on the submission's path");
    assert.ok(timings.compileMs !== undefined && timings.testsMs !== undefined, "the stage timings were filled in");
    // Torn down after the verdict, and the free slot warmed again.
    await eventually(() => (disposals === 1 && opens === 2 && live.size === 1 ? true : null), "the used session to be disposed and the next opened", 20_000);
  });

  it("each submission gets a session of its own, used once; verdicts stay right", async () => {
    const wrong = await judge.judge(AB_C(true));
    assert.equal(wrong.status, "WA", JSON.stringify(wrong));
    const right = await judge.judge(AB_C(false));
    assert.equal(right.status, "Success", JSON.stringify(right));
    await eventually(() => (disposals === 3 && live.size === 1 ? true : null), "every used session disposed, one warm", 20_000);
    assert.equal(supervisors().length, 1, "one supervisor: the warm session's");
  });

  it("close() waits for the tear-downs in flight and disposes the warm session", async () => {
    const verdict = await judge.judge(AB_C(false));
    assert.equal(verdict.status, "Success");
    await judge.close(); // right after the verdict: the used session may still be disposing
    assert.equal(live.size, 0, "every session opened was disposed");
    assert.equal(disposals, opens);
    assert.deepEqual(supervisors(), []);
    await assert.rejects(judge.judge(AB_C(false)), /closed/);
  });
});
