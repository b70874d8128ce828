// A PGlite worker thread that dies (ended from outside here, as an out-of-memory abort or a
// crash would end it) is replaced by a new worker on the same data directory: committed rows
// survive, what was in flight on the dead worker and what is sent before the new one is up
// fails as "PGlite is closed" (the store's DATABASE_UNAVAILABLE), a transaction of the dead
// worker never reaches the new one, a replacement that cannot open is tried again, and an
// in-memory database stays closed (its data died with the worker).
import assert from "node:assert/strict";
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { createRequire, syncBuiltinESMExports } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { Worker as WorkerType } from "node:worker_threads";
import type { PgliteWorkerEvent } from "../src/postgres/pglite-thread.js";

// Every worker thread this process starts, so a test can end one from outside.
const threads = createRequire(import.meta.url)("node:worker_threads") as typeof import("node:worker_threads");
const workers: WorkerType[] = [];
const Original = threads.Worker;
threads.Worker = class extends Original {
  constructor(...args: ConstructorParameters<typeof Original>) {
    super(...args);
    workers.push(this);
  }
} as typeof Original;
syncBuiltinESMExports();
const { openPglite } = await import("../src/postgres/sql-client.js");

function watch() {
  const events: PgliteWorkerEvent[] = [];
  const waiters: { kind: PgliteWorkerEvent["kind"]; resolve: (event: PgliteWorkerEvent) => void }[] = [];
  const onWorkerEvent = (event: PgliteWorkerEvent) => {
    events.push(event);
    for (const waiter of waiters.filter((w) => w.kind === event.kind)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(event);
    }
  };
  const next = (kind: PgliteWorkerEvent["kind"]) => new Promise<PgliteWorkerEvent>((resolve) => waiters.push({ kind, resolve }));
  return { events, onWorkerEvent, next };
}

const closed = /PGlite is closed \(its worker thread exited with code 1\)$/;

describe("PGlite worker thread death", () => {
  const dirs: string[] = [];
  after(async () => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

  it("a new worker opens the same data directory; the gap and the dead worker's transaction fail as closed", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sonocode-pglite-restart-"));
    dirs.push(dir);
    const watcher = watch();
    const client = await openPglite(dir, { onWorkerEvent: watcher.onWorkerEvent });
    const first = workers.at(-1)!;
    await client.query("CREATE TABLE kept (id int PRIMARY KEY)");
    await client.query("INSERT INTO kept VALUES ($1)", [1]);

    // A transaction open on the worker that dies, and a top-level statement waiting behind it.
    let opened!: () => void;
    const inTransaction = new Promise<void>((resolve) => (opened = resolve));
    let resume!: () => void;
    const resumed = new Promise<void>((resolve) => (resume = resolve));
    const transaction = client.transaction(async (tx) => {
      await tx.query("INSERT INTO kept VALUES (2)");
      opened();
      await resumed;
      await tx.query("INSERT INTO kept VALUES (3)");
    });
    const settledTransaction = transaction.then(
      () => undefined,
      (error: unknown) => error,
    );
    await inTransaction;
    const waiting = client.query("SELECT count(*)::int AS n FROM kept WHERE id > $1", [0]);

    const restarted = watcher.next("restarted");
    await first.terminate();
    await assert.rejects(waiting, closed);
    // The new worker is not up yet (it answers only after opening the database).
    await assert.rejects(client.query("SELECT 1"), closed);
    await assert.rejects(client.transaction(async () => undefined), closed);

    await restarted;
    assert.notEqual(workers.at(-1), first, "a new worker was started");
    // The dead worker's transaction resumes after the restart: neither its statement nor its END may reach the new worker.
    resume();
    const transactionError = await settledTransaction;
    assert.ok(transactionError instanceof Error);
    assert.match(transactionError.message, closed);
    assert.deepEqual((await client.query<{ id: number }>("SELECT id FROM kept ORDER BY id")).rows, [{ id: 1 }]);
    assert.equal(await client.transaction(async (tx) => (await tx.query("INSERT INTO kept VALUES ($1)", [4])).rowCount), 1);
    assert.deepEqual((await client.query<{ id: number }>("SELECT id FROM kept WHERE id = $1", [4])).rows, [{ id: 4 }]);
    assert.deepEqual(
      watcher.events.map((event) => event.kind),
      ["exited", "restarted"],
    );
    assert.deepEqual(watcher.events[0], { kind: "exited", reason: "PGlite is closed (its worker thread exited with code 1)", restarting: true });
    await client.close();
    await assert.rejects(client.query("SELECT 1"), /PGlite is closed/);
  });

  it("a replacement that cannot open is tried again after a pause, and close() during the pauses settles", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "sonocode-pglite-restart-"));
    dirs.push(dir);
    // The pause before a retry keeps no process alive (a server's listening socket does): this test holds the process.
    const alive = setInterval(() => undefined, 1_000);
    t.after(() => clearInterval(alive));
    const watcher = watch();
    const client = await openPglite(dir, { onWorkerEvent: watcher.onWorkerEvent });
    await client.query("CREATE TABLE kept (id int PRIMARY KEY)");
    await client.query("INSERT INTO kept VALUES (1)");
    const first = workers.at(-1)!;

    // Its data directory becomes a plain file, then the worker dies: the new worker cannot open it.
    const failed = watcher.next("restart-failed");
    await rename(dir, `${dir}.away`);
    await writeFile(dir, "not a data directory");
    await first.terminate();
    const failure = await failed;
    assert.equal(failure.kind === "restart-failed" && failure.retryInMs, 500);
    await assert.rejects(client.query("SELECT 1"), closed);

    const restarted = watcher.next("restarted");
    await rm(dir);
    await rename(`${dir}.away`, dir);
    const done = await restarted;
    assert.ok(done.kind === "restarted" && done.attempt >= 2);
    assert.deepEqual((await client.query<{ id: number }>("SELECT id FROM kept")).rows, [{ id: 1 }]);

    // Down again, and not coming back: close() ends the retries.
    const failedAgain = watcher.next("restart-failed");
    await rename(dir, `${dir}.away`);
    await writeFile(dir, "not a data directory");
    await workers.at(-1)!.terminate();
    await failedAgain;
    await client.close();
    await rm(dir);
    await rename(`${dir}.away`, dir);
  });

  it("an in-memory database stays closed after its worker died", async () => {
    const watcher = watch();
    const client = await openPglite(null, { onWorkerEvent: watcher.onWorkerEvent });
    await client.query("SELECT 1");
    const first = workers.at(-1)!;
    await first.terminate();
    await assert.rejects(client.query("SELECT 1"), closed);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await assert.rejects(client.query("SELECT 1"), closed);
    assert.equal(workers.at(-1), first, "no new worker was started");
    assert.deepEqual(watcher.events, [{ kind: "exited", reason: "PGlite is closed (its worker thread exited with code 1)", restarting: false }]);
    await client.close();
  });
});
