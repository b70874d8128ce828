// Where the MongoDB adapter's suites run. With MONGO_URL: that server (a real MongoDB), unchanged.
// Without it (every build machine: no MongoDB server can be installed there): the
// MongoDB-wire-compatible stand-in of mongo-standin.server.ts, NOT MongoDB, started in this test
// process on a free port, so the adapter still runs through the official driver in every npm test.
// Suite names say which one ran.
import { randomBytes } from "node:crypto";
import { MongoClient } from "mongodb";
import { createStore, type Store } from "../src/index.js";
import { startMongoStandin, type RunningStandin } from "./mongo-standin.server.js";

/** A real server's URL (an empty MONGO_URL counts as unset). */
const realUrl: string | undefined = process.env.MONGO_URL || undefined;

export interface MongoTarget {
  /** "mongodb", or "mongodb stand-in (not MongoDB)": what the suite titles name. */
  readonly name: string;
  /**
   * True on the stand-in. A case it cannot prove (a MongoDB feature it lacks: none of today's)
   * is skipped only there: `{ skip: target.standin && "stand-in, not MongoDB: <why>" }`.
   */
  readonly standin: boolean;
  url(): Promise<string>;
}

let standin: Promise<RunningStandin> | undefined;

/** One stand-in per test process, started on first use; unref'd so it never keeps the process alive. */
function standinUrl(): Promise<string> {
  standin ??= startMongoStandin({ unref: true });
  return standin.then((running) => running.url);
}

export const mongoTarget: MongoTarget = realUrl
  ? { name: "mongodb", standin: false, url: async () => realUrl }
  : { name: "mongodb stand-in (not MongoDB)", standin: true, url: standinUrl };

export interface MongoDatabase {
  /** Opens a store (indexes created) on this database; may be called again after close. */
  open(): Promise<Store>;
  /** Drops the database, through a client of its own (the stores on it are closed by then). */
  drop(): Promise<void>;
}

/** A database of its own per suite (a random name): suites never see each other's documents. */
export function mongoDatabase(prefix: string, target: MongoTarget = mongoTarget): MongoDatabase {
  const dbName = `sonocode_${prefix}_${randomBytes(6).toString("hex")}`;
  return {
    open: async () => createStore({ kind: "mongodb", url: await target.url(), dbName }),
    drop: async () => {
      const client = new MongoClient(await target.url());
      try {
        await client.connect();
        await client.db(dbName).dropDatabase();
      } finally {
        await client.close();
      }
    },
  };
}

/** The one-store harness (scoring, rejudge): open() on a fresh database; close() closes the store and drops it. */
export function mongoStoreHarness(prefix: string, target: MongoTarget = mongoTarget): { open(): Promise<Store>; close(): Promise<void> } {
  const database = mongoDatabase(prefix, target);
  let store: Store | undefined;
  return {
    open: async () => (store = await database.open()),
    close: async () => {
      await store?.close();
      await database.drop();
    },
  };
}
