// Where the MongoDB adapter's suites run: the server MONGO_URL names. No MongoDB server can be
// installed on the build machines (and no wire-compatible stand-in installs from the npm registry
// here: see the store README), so without MONGO_URL every MongoDB suite is defined as one skipped
// test that says why, never silently left out.
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { MongoClient } from "mongodb";
import { createStore, type Store } from "../src/index.js";

/** The server under test, or undefined (an empty MONGO_URL counts as unset). */
export const mongoUrl: string | undefined = process.env.MONGO_URL || undefined;

/** For suites that take a `skip` option themselves: false when there is a server, else the reason. */
export const mongoSkip: string | false = mongoUrl === undefined ? "MONGO_URL is not set: no MongoDB server to test against" : false;

/** Defines the suite on the server when there is one; otherwise one skipped test under `title`. */
export function withMongo(title: string, define: (url: string) => void): void {
  if (mongoUrl === undefined) {
    describe(title, () => {
      it("skipped", { skip: mongoSkip }, () => {});
    });
    return;
  }
  define(mongoUrl);
}

export interface MongoDatabase {
  readonly dbName: string;
  /** Opens a store (indexes created) on this database; may be called again after close. */
  open(): Promise<Store>;
  /** Drops the database, through a client of its own (the stores on it are closed by then). */
  drop(): Promise<void>;
}

/** A database of its own per suite (a random name): suites never see each other's documents. */
export function mongoDatabase(url: string, prefix: string): MongoDatabase {
  const dbName = `sonocode_${prefix}_${randomBytes(6).toString("hex")}`;
  return {
    dbName,
    open: () => createStore({ kind: "mongodb", url, dbName }),
    drop: async () => {
      const client = new MongoClient(url);
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
export function mongoStoreHarness(url: string, prefix: string): { open(): Promise<Store>; close(): Promise<void> } {
  const database = mongoDatabase(url, prefix);
  let store: Store | undefined;
  return {
    open: async () => (store = await database.open()),
    close: async () => {
      await store?.close();
      await database.drop();
    },
  };
}
