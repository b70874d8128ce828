// The judge's slots: at most `size` submissions (or runs) hold a sandbox at once. Two things
// keep a sandbox's set-up and tear-down off a submission's critical path:
//  - a finished submission's session is disposed after its verdict is returned, and its slot
//    is free only once that is done (the slot's CPU and uid are the session's until then);
//  - with `warm`, a free slot opens the next submission's session ahead (a fresh work dir and
//    supervisor, never used before and used by exactly one submission), so a submission
//    starts on a sandbox that is ready. Sessions alive at once (in use, disposing, warm)
//    never exceed `size`, so each keeps a CPU of its own (the engine pins by session slot).
import type { Logger } from "pino";
import type { SandboxSession } from "./sandbox/sandbox.js";

export interface JudgeSlot {
  /** The session opened ahead for this slot on the first call (a fresh one if it failed), a fresh one after. */
  session(): Promise<SandboxSession>;
  /**
   * Returns at once: disposes `used` (and a warm session never taken) in the background,
   * then frees the slot. Call exactly once.
   */
  finish(used: SandboxSession | null): void;
}

export interface JudgeSlotsOptions {
  size: number;
  open: () => Promise<SandboxSession>;
  /** Open a session ahead for every free slot (default false: each submission opens its own). */
  warm?: boolean;
  logger?: Logger | undefined;
}

export class JudgeSlots {
  private free: number;
  /** Free slots holding a session opened ahead (oldest first); each counts as a taken slot. */
  private readonly warmed: Array<Promise<SandboxSession>> = [];
  /** Submissions waiting for a slot; a freed slot goes to the first, which opens its own session. */
  private readonly waiters: Array<() => void> = [];
  private readonly finishing = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly options: JudgeSlotsOptions) {
    this.free = Math.max(1, options.size);
    if (options.warm) while (this.free > 0) this.warmOne();
  }

  /** Free slots whose session is opened ahead (or being opened). */
  get warmSlots(): number {
    return this.warmed.length;
  }

  async acquire(signal?: AbortSignal): Promise<JudgeSlot> {
    signal?.throwIfAborted();
    if (this.closed) throw new Error("judge is closed");
    const warm = this.warmed.shift();
    if (warm) return this.slot(warm);
    if (this.free > 0) {
      this.free--;
      return this.slot(null);
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const i = this.waiters.indexOf(go);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal?.reason ?? new Error("aborted"));
      };
      const go = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      this.waiters.push(go);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
    return this.slot(null);
  }

  /** Stops warming, waits for the disposals in flight and disposes the warm sessions. */
  async close(): Promise<void> {
    this.closed = true;
    const warm = this.warmed.splice(0);
    await Promise.all([...this.finishing, ...warm.map((session) => this.dispose(session))]);
  }

  private slot(warm: Promise<SandboxSession> | null): JudgeSlot {
    let pending = warm;
    let finished = false;
    return {
      session: async () => {
        const ahead = pending;
        pending = null;
        if (!ahead) return this.options.open();
        try {
          return await ahead;
        } catch (error) {
          // Opened ahead and failed: a fresh try says whether the engine is really broken.
          this.options.logger?.warn({ err: error }, "a sandbox session opened ahead failed; opening another");
          return this.options.open();
        }
      },
      finish: (used) => {
        if (finished) return;
        finished = true;
        const untaken = pending;
        pending = null;
        const done = (async () => {
          await Promise.all([used ? this.dispose(Promise.resolve(used)) : undefined, untaken ? this.dispose(untaken) : undefined]);
          this.giveBack();
        })();
        this.finishing.add(done);
        void done.finally(() => this.finishing.delete(done));
      },
    };
  }

  /** A freed slot goes to the first waiter, else opens the next session ahead, else waits free. */
  private giveBack(): void {
    const waiter = this.waiters.shift();
    if (waiter) return waiter();
    this.free++;
    if (this.options.warm && !this.closed) this.warmOne();
  }

  /** Takes a free slot and opens its next session now; whoever acquires the slot awaits it. */
  private warmOne(): void {
    this.free--;
    const opening = this.options.open();
    // Not awaited yet: a failure surfaces in session(), which then opens afresh.
    opening.catch(() => undefined);
    this.warmed.push(opening);
  }

  private async dispose(session: Promise<SandboxSession>): Promise<void> {
    let opened: SandboxSession;
    try {
      opened = await session;
    } catch {
      return; // never opened: nothing to dispose (session() logged why, if it was taken)
    }
    try {
      await opened.dispose();
    } catch (error) {
      this.options.logger?.warn({ err: error }, "sandbox dispose failed");
    }
  }
}
