// The judge's slots with sessions standing in for sandboxes: a session is opened ahead for a
// free slot and handed to the next submission; a finished one is torn down after the caller
// moved on, and its slot is free only once that is done; never more sessions than slots.
import { test } from "node:test";
import assert from "node:assert/strict";
import { JudgeSlots } from "../src/judge-slots.js";
import type { SandboxSession } from "../src/sandbox/sandbox.js";

interface FakeSession extends SandboxSession {
  id: number;
  disposed: boolean;
}

/** Counts opens and live sessions; disposals wait until released when `holdDisposals` is set. */
function fakeEngine(options: { failOpens?: number; holdDisposals?: boolean } = {}) {
  let opened = 0;
  let live = 0;
  let maxLive = 0;
  let failures = options.failOpens ?? 0;
  const held: Array<() => void> = [];
  const open = async (): Promise<SandboxSession> => {
    await new Promise((resolve) => setImmediate(resolve));
    if (failures > 0) {
      failures--;
      throw new Error("open failed");
    }
    opened++;
    live++;
    maxLive = Math.max(maxLive, live);
    const session: FakeSession = {
      id: opened,
      disposed: false,
      writeFile: async () => undefined,
      run: async () => {
        throw new Error("not used");
      },
      dispose: async () => {
        if (session.disposed) return;
        if (options.holdDisposals) await new Promise<void>((resolve) => held.push(resolve));
        session.disposed = true;
        live--;
      },
    };
    return session;
  };
  return {
    open,
    stats: () => ({ opened, live, maxLive }),
    releaseDisposals: () => held.splice(0).forEach((release) => release()),
  };
}

const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

test("warm: every free slot's session is opened ahead, and a submission gets it without opening one", async () => {
  const engine = fakeEngine();
  const slots = new JudgeSlots({ size: 2, open: engine.open, warm: true });
  await settle();
  assert.equal(engine.stats().opened, 2, "both free slots opened a session ahead");
  const slot = await slots.acquire();
  const session = (await slot.session()) as FakeSession;
  assert.equal(engine.stats().opened, 2, "the submission took a ready session: no open on its path");
  // A second session in the same slot (a run's reference, then its own program) is a fresh one.
  const second = (await slot.session()) as FakeSession;
  assert.notEqual(second.id, session.id);
  await second.dispose();
  slot.finish(session);
  await settle();
  assert.ok(session.disposed);
  assert.equal(engine.stats().opened, 4, "the freed slot opened the next session ahead");
  assert.equal(slots.warmSlots, 2);
  await slots.close();
  assert.equal(engine.stats().live, 0, "close() disposed the sessions opened ahead");
});

test("finish() returns before the tear-down; the slot is free for the next submission only once it is done", async () => {
  const engine = fakeEngine({ holdDisposals: true });
  const slots = new JudgeSlots({ size: 1, open: engine.open });
  const first = await slots.acquire();
  const session = (await first.session()) as FakeSession;
  first.finish(session); // returns at once: the caller publishes its verdict meanwhile
  assert.equal(session.disposed, false);
  let secondStarted = false;
  const second = slots.acquire().then((slot) => {
    secondStarted = true;
    return slot;
  });
  await settle();
  assert.equal(secondStarted, false, "the slot (its CPU and uid) is still the disposing session's");
  engine.releaseDisposals();
  const slot = await second;
  assert.ok(session.disposed && secondStarted);
  slot.finish(null);
  await slots.close();
});

test("never more live sessions than slots, with many submissions at once and slow tear-downs", async () => {
  const engine = fakeEngine();
  const slots = new JudgeSlots({ size: 2, open: engine.open, warm: true });
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      const slot = await slots.acquire();
      const session = await slot.session();
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
      slot.finish(session);
    }),
  );
  await slots.close();
  const stats = engine.stats();
  assert.ok(stats.maxLive <= 2, `at most 2 sessions alive at once, saw ${stats.maxLive}`);
  assert.equal(stats.live, 0);
  assert.ok(stats.opened >= 20);
});

test("a session opened ahead that failed is replaced by a fresh open, not reported as the submission's failure", async () => {
  const engine = fakeEngine({ failOpens: 1 });
  const slots = new JudgeSlots({ size: 1, open: engine.open, warm: true });
  const slot = await slots.acquire();
  const session = await slot.session();
  assert.ok(session);
  assert.equal(engine.stats().opened, 1);
  slot.finish(session);
  await slots.close();
  assert.equal(engine.stats().live, 0);
});

test("a slot finished without taking its warm session disposes it; waiting can be aborted", async () => {
  const engine = fakeEngine();
  const slots = new JudgeSlots({ size: 1, open: engine.open, warm: true });
  const slot = await slots.acquire();
  const aborted = new AbortController();
  const waiting = slots.acquire(aborted.signal);
  aborted.abort(new Error("cancelled"));
  await assert.rejects(waiting, /cancelled/);
  slot.finish(null); // e.g. the request was refused before any sandbox work
  await settle();
  assert.equal(engine.stats().opened, 2, "the untaken session was disposed and the slot warmed again");
  assert.equal(engine.stats().live, 1);
  await slots.close();
  assert.equal(engine.stats().live, 0);
  await assert.rejects(slots.acquire(), /closed/);
});
