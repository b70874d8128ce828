// A MongoDB-wire-compatible stand-in, NOT MongoDB. No MongoDB server can be installed on the
// build machines, and no wire-compatible server installs from the npm registry here, so without
// MONGO_URL the MongoDB adapter's suites run against this: an in-memory, single-threaded server
// that speaks the wire protocol (mongo-standin.wire.ts) to the official driver and leaves query,
// update, pipeline-update and aggregation semantics to mingo (an independent implementation of
// MongoDB's query language). It proves the adapter's commands, options, BSON types and error
// handling through the real driver; it cannot prove MongoDB's own behaviour. It has no
// transactions, sessions or replica set (lsid, read and write concerns are ignored), no TTL
// expiry, no query planner (indexes only enforce uniqueness: a query no index serves, or an
// in-memory sort past MongoDB's memory limit, goes unnoticed), no concurrency
// (commands run one at a time, so a race that MongoDB resolves by document-level atomicity is
// never raced here), no cursors (every result in the first batch), and array fields are not
// expanded in index keys. What it does not implement (upsert, unknown commands, getMore) is
// refused with an error, never silently ignored.
import { createServer, type Socket } from "node:net";
import { aggregate, updateOne } from "mingo";
import { BSON, ObjectId, type Document } from "mongodb";
import { encodeReply, readMessages, type Command } from "./mongo-standin.wire.js";

/** Reported to the driver: MongoDB 7.0's wire version (the driver wants at least 9, 4.4). */
const MAX_WIRE_VERSION = 21;
const MAX_BSON_BYTES = 16 * 1024 * 1024;

interface IndexSpec {
  name: string;
  key: Document;
  unique: boolean;
  partialFilterExpression?: Document;
  /** Accepted and listed; nothing expires on the stand-in (there is no TTL monitor). */
  expireAfterSeconds?: number;
}

interface Collection {
  /** In insertion order: the natural order of a find without sort. */
  docs: Document[];
  indexes: IndexSpec[];
}

class CommandError extends Error {
  constructor(
    readonly code: number,
    readonly codeName: string,
    message: string,
  ) {
    super(message);
  }
}

const notImplemented = (what: string) => new CommandError(238, "NotImplemented", `${what} is not implemented by the MongoDB-wire-compatible stand-in`);

/** A deep copy through BSON: what the server stores is never shared with a reply, and undefined fields vanish as in BSON. */
function copy(doc: Document): Document {
  return BSON.deserialize(BSON.serialize(doc, { ignoreUndefined: true }));
}

function bsonEqual(a: Document, b: Document): boolean {
  return Buffer.from(BSON.serialize(a)).equals(Buffer.from(BSON.serialize(b)));
}

function valueAt(doc: Document, path: string): unknown {
  let value: unknown = doc;
  for (const part of path.split(".")) value = typeof value === "object" && value !== null ? (value as Document)[part] : undefined;
  return value ?? null;
}

/** The index key of a document: its values of the key's fields (a missing field is null, as in MongoDB; arrays are not expanded). */
function indexKey(index: IndexSpec, doc: Document): string {
  return BSON.EJSON.stringify(Object.keys(index.key).map((field) => valueAt(doc, field)), { relaxed: false });
}

function indexed(index: IndexSpec, doc: Document): boolean {
  return index.partialFilterExpression === undefined || aggregate([doc], [{ $match: index.partialFilterExpression }]).length === 1;
}

function sameSpec(a: IndexSpec, b: IndexSpec): boolean {
  const spec = (i: IndexSpec) => BSON.EJSON.stringify({ key: i.key, unique: i.unique, partial: i.partialFilterExpression ?? null, ttl: i.expireAfterSeconds ?? null });
  return spec(a) === spec(b);
}

/** The stages MongoDB allows in an update pipeline. */
const PIPELINE_UPDATE_STAGES = new Set(["$addFields", "$set", "$project", "$unset", "$replaceRoot", "$replaceWith"]);

/**
 * What MongoDB refuses in an update, checked before mingo applies it (mingo would apply some of
 * it, or refuse it with another error): a stage other than the update stages in a pipeline, an
 * operator on _id, and two operators on one path (or on a path and its parent).
 */
function refuseAsMongoDbWould(update: Document | Document[]): void {
  if (Array.isArray(update)) {
    const stage = update.map((s) => Object.keys(s)[0] ?? "").find((name) => !PIPELINE_UPDATE_STAGES.has(name));
    if (stage !== undefined) throw new CommandError(72, "InvalidOptions", `${stage} is not allowed to be used within an update`);
    return;
  }
  const paths = Object.entries(update).flatMap(([operator, fields]) => (operator.startsWith("$") ? Object.keys(fields as Document) : []));
  const id = paths.find((path) => path === "_id" || path.startsWith("_id."));
  if (id !== undefined) throw new CommandError(66, "ImmutableField", `Performing an update on the path '${id}' would modify the immutable field '_id'`);
  for (const [i, a] of paths.entries()) {
    const b = paths.slice(i + 1).find((other) => other === a || other.startsWith(`${a}.`) || a.startsWith(`${other}.`));
    if (b !== undefined) throw new CommandError(40, "ConflictingUpdateOperators", `Updating the path '${b}' would create a conflict at '${a}'`);
  }
}

const ID_INDEX: IndexSpec = { name: "_id_", key: { _id: 1 }, unique: true };

/** One server's data: databases of collections of documents, and the commands the driver sends. */
export class MongoStandin {
  private readonly databases = new Map<string, Map<string, Collection>>();
  private connections = 0;

  private collection(db: string, name: string, create: boolean): Collection | undefined {
    let database = this.databases.get(db);
    if (!database && create) this.databases.set(db, (database = new Map()));
    let collection = database?.get(name);
    if (!collection && create && database) database.set(name, (collection = { docs: [], indexes: [ID_INDEX] }));
    return collection;
  }

  /** Throws DuplicateKey when `doc` would share a unique index key with another document (`self`: its own slot, on update). */
  private checkUnique(ns: string, collection: Collection, doc: Document, self = -1): void {
    for (const index of collection.indexes) {
      if (!index.unique || !indexed(index, doc)) continue;
      const key = indexKey(index, doc);
      const clash = collection.docs.findIndex((other, i) => i !== self && indexed(index, other) && indexKey(index, other) === key);
      if (clash >= 0) throw new CommandError(11000, "DuplicateKey", `E11000 duplicate key error collection: ${ns} index: ${index.name} dup key: ${key}`);
    }
  }

  private checkSize(doc: Document): void {
    if (BSON.calculateObjectSize(doc) > MAX_BSON_BYTES) throw new CommandError(10334, "BSONObjectTooLarge", "object to insert too large");
  }

  /** Slots of the documents matching `filter`, in `sort` order (natural order without one), at most `limit` (0: all). */
  private matching(collection: Collection | undefined, filter: Document = {}, sort?: Document, limit = 0): number[] {
    if (!collection) return [];
    const stages: Document[] = [{ $match: filter }];
    if (sort && Object.keys(sort).length > 0) stages.push({ $sort: sort });
    if (limit > 0) stages.push({ $limit: limit });
    // Without a $project mingo hands back the stored objects themselves, so identity finds the slots.
    const slot = new Map(collection.docs.map((doc, i) => [doc, i] as const));
    return aggregate(collection.docs, stages).map((doc) => slot.get(doc)!);
  }

  /** The document `update` makes of `doc` (operators, a pipeline, or a replacement); the stored one is not touched. */
  private updated(doc: Document, update: Document | Document[], arrayFilters?: Document[]): Document {
    const isReplacement = !Array.isArray(update) && Object.keys(update).every((key) => !key.startsWith("$"));
    refuseAsMongoDbWould(update);
    let next: Document;
    if (isReplacement) {
      next = { _id: doc["_id"], ...copy(update) };
    } else {
      const slot = [copy(doc)];
      try {
        updateOne(slot, {}, update as never, arrayFilters ? { arrayFilters } : {});
      } catch (error) {
        throw new CommandError(9, "FailedToParse", `update refused: ${(error as Error).message}`);
      }
      next = copy(slot[0]!);
    }
    if (!bsonEqual({ _id: next["_id"] }, { _id: doc["_id"] })) throw new CommandError(66, "ImmutableField", "Performing an update on the path '_id' would modify the immutable field '_id'");
    this.checkSize(next);
    return next;
  }

  private insert(ns: string, collection: Collection, docs: Document[], ordered: boolean): Document {
    const writeErrors: Document[] = [];
    let n = 0;
    for (const [index, given] of docs.entries()) {
      try {
        const doc = "_id" in given ? copy(given) : { _id: new ObjectId(), ...copy(given) };
        this.checkSize(doc);
        this.checkUnique(ns, collection, doc);
        collection.docs.push(doc);
        n++;
      } catch (error) {
        if (!(error instanceof CommandError)) throw error;
        writeErrors.push({ index, code: error.code, errmsg: error.message });
        if (ordered) break;
      }
    }
    return { n, ...(writeErrors.length > 0 ? { writeErrors } : {}) };
  }

  private update(ns: string, collection: Collection, statements: Document[], ordered: boolean): Document {
    const writeErrors: Document[] = [];
    let n = 0;
    let nModified = 0;
    for (const [index, statement] of statements.entries()) {
      try {
        if (statement["upsert"] === true) throw notImplemented("upsert");
        for (const slot of this.matching(collection, statement["q"] as Document, undefined, statement["multi"] === true ? 0 : 1)) {
          const before = collection.docs[slot]!;
          const after = this.updated(before, statement["u"] as Document, statement["arrayFilters"] as Document[] | undefined);
          this.checkUnique(ns, collection, after, slot);
          n++;
          if (bsonEqual(before, after)) continue;
          collection.docs[slot] = after;
          nModified++;
        }
      } catch (error) {
        if (!(error instanceof CommandError)) throw error;
        writeErrors.push({ index, code: error.code, errmsg: error.message });
        if (ordered) break;
      }
    }
    return { n, nModified, ...(writeErrors.length > 0 ? { writeErrors } : {}) };
  }

  private findAndModify(ns: string, collection: Collection | undefined, body: Document): Document {
    if (body["upsert"] === true) throw notImplemented("findAndModify with upsert");
    const [slot] = this.matching(collection, body["query"] as Document | undefined, body["sort"] as Document | undefined, 1);
    if (slot === undefined || !collection) return { lastErrorObject: { n: 0, updatedExisting: false }, value: null };
    const before = collection.docs[slot]!;
    let value: Document;
    if (body["remove"] === true) {
      collection.docs.splice(slot, 1);
      value = before;
    } else {
      const after = this.updated(before, body["update"] as Document | Document[], body["arrayFilters"] as Document[] | undefined);
      this.checkUnique(ns, collection, after, slot);
      collection.docs[slot] = after;
      value = body["new"] === true ? after : before;
    }
    const fields = body["fields"] as Document | undefined;
    if (fields && Object.keys(fields).length > 0) value = aggregate([value], [{ $project: fields }])[0]!;
    return { lastErrorObject: { n: 1, updatedExisting: body["remove"] !== true }, value };
  }

  private createIndexes(ns: string, collection: Collection, specs: Document[]): Document {
    const before = collection.indexes.length;
    for (const spec of specs) {
      const index: IndexSpec = {
        name: String(spec["name"]),
        key: spec["key"] as Document,
        unique: spec["unique"] === true,
        ...(spec["partialFilterExpression"] ? { partialFilterExpression: spec["partialFilterExpression"] as Document } : {}),
        ...(typeof spec["expireAfterSeconds"] === "number" ? { expireAfterSeconds: spec["expireAfterSeconds"] } : {}),
      };
      const named = collection.indexes.find((existing) => existing.name === index.name);
      if (named) {
        if (sameSpec(named, index)) continue;
        throw new CommandError(86, "IndexKeySpecsConflict", `An existing index has the same name as the requested index: ${index.name}`);
      }
      const twin = collection.indexes.find((existing) => sameSpec(existing, index));
      if (twin) throw new CommandError(85, "IndexOptionsConflict", `Index already exists with a different name: ${twin.name}`);
      if (index.unique) {
        const seen = new Set<string>();
        for (const doc of collection.docs.filter((d) => indexed(index, d))) {
          const key = indexKey(index, doc);
          if (seen.has(key)) throw new CommandError(11000, "DuplicateKey", `E11000 duplicate key error collection: ${ns} index: ${index.name} dup key: ${key}`);
          seen.add(key);
        }
      }
      collection.indexes.push(index);
    }
    return { numIndexesBefore: before, numIndexesAfter: collection.indexes.length, createdCollectionAutomatically: false };
  }

  /** The reply document for one command (ok: 0 with a code when refused, as a server answers). */
  handle(body: Document): Document {
    try {
      return { ...this.run(body), ok: 1 };
    } catch (error) {
      if (error instanceof CommandError) return { ok: 0, errmsg: error.message, code: error.code, codeName: error.codeName };
      return { ok: 0, errmsg: `stand-in failure: ${(error as Error).message}`, code: 1, codeName: "InternalError" };
    }
  }

  private run(body: Document): Document {
    const name = Object.keys(body)[0] ?? "";
    const db = String(body["$db"] ?? "admin");
    const target = String(body[name]);
    const ns = `${db}.${target}`;
    const cursor = (docs: Document[]) => ({ cursor: { id: BSON.Long.fromNumber(0), ns, firstBatch: docs } });
    switch (name) {
      case "hello":
      case "isMaster":
      case "ismaster":
        return {
          helloOk: true,
          isWritablePrimary: true,
          ismaster: true,
          maxBsonObjectSize: MAX_BSON_BYTES,
          maxMessageSizeBytes: 48_000_000,
          maxWriteBatchSize: 100_000,
          localTime: new Date(),
          logicalSessionTimeoutMinutes: 30,
          connectionId: ++this.connections,
          minWireVersion: 0,
          maxWireVersion: MAX_WIRE_VERSION,
          readOnly: false,
        };
      case "ping":
      case "endSessions":
        return {};
      case "buildInfo":
        return { version: "7.0.0-standin", versionArray: [7, 0, 0, 0], standin: "MongoDB-wire-compatible stand-in, not MongoDB" };
      case "insert":
        return this.insert(ns, this.collection(db, target, true)!, body["documents"] as Document[], body["ordered"] !== false);
      case "update":
        return this.update(ns, this.collection(db, target, true)!, body["updates"] as Document[], body["ordered"] !== false);
      case "delete": {
        const collection = this.collection(db, target, false);
        let n = 0;
        for (const statement of body["deletes"] as Document[]) {
          const slots = this.matching(collection, statement["q"] as Document, undefined, statement["limit"] === 1 ? 1 : 0);
          for (const slot of slots.sort((a, b) => b - a)) collection!.docs.splice(slot, 1);
          n += slots.length;
        }
        return { n };
      }
      case "findAndModify":
        return this.findAndModify(ns, this.collection(db, target, false), body);
      case "find": {
        const collection = this.collection(db, target, false);
        const stages: Document[] = [{ $match: body["filter"] ?? {} }];
        if (body["sort"] && Object.keys(body["sort"] as Document).length > 0) stages.push({ $sort: body["sort"] });
        if (typeof body["skip"] === "number" && body["skip"] > 0) stages.push({ $skip: body["skip"] });
        if (typeof body["limit"] === "number" && body["limit"] !== 0) stages.push({ $limit: Math.abs(body["limit"]) });
        if (body["projection"] && Object.keys(body["projection"] as Document).length > 0) stages.push({ $project: body["projection"] });
        // Every result in the first batch (cursor id 0): the driver never needs a getMore.
        return cursor(collection ? aggregate(collection.docs, stages).map(copy) : []);
      }
      case "aggregate": {
        if (typeof body["aggregate"] !== "string") throw notImplemented("a database-level aggregate");
        const collection = this.collection(db, target, false);
        // Copies in: a stage such as $set must not change the stored documents.
        return cursor(aggregate((collection?.docs ?? []).map(copy), body["pipeline"] as Document[]).map(copy));
      }
      case "count":
        return { n: this.matching(this.collection(db, target, false), body["query"] as Document | undefined).length };
      case "getMore":
        throw new CommandError(43, "CursorNotFound", "cursor not found (the stand-in returns every result in the first batch)");
      case "killCursors":
        return { cursorsKilled: body["cursors"] ?? [], cursorsNotFound: [], cursorsAlive: [], cursorsUnknown: [] };
      case "createIndexes":
        return this.createIndexes(ns, this.collection(db, target, true)!, body["indexes"] as Document[]);
      case "listIndexes": {
        const collection = this.collection(db, target, false);
        if (!collection) throw new CommandError(26, "NamespaceNotFound", `ns does not exist: ${ns}`);
        return cursor(collection.indexes.map(({ name: index, key, unique, ...options }) => ({ v: 2, key, name: index, ...(unique && index !== "_id_" ? { unique } : {}), ...options })));
      }
      case "listCollections":
        return cursor([...(this.databases.get(db)?.keys() ?? [])].map((collection) => ({ name: collection, type: "collection" })));
      case "drop":
        this.databases.get(db)?.delete(target);
        return { ns };
      case "dropDatabase":
        this.databases.delete(db);
        return { dropped: db };
      default:
        throw new CommandError(59, "CommandNotFound", `no such command: '${name}' (not implemented by the MongoDB-wire-compatible stand-in)`);
    }
  }
}

export interface RunningStandin {
  /** mongodb://127.0.0.1:<port>: give it to createStore or a MongoClient. */
  url: string;
  close(): Promise<void>;
}

/**
 * Starts a stand-in on a free loopback port, in this process. `unref`: neither the listener nor
 * its connections keep the process alive (a test file's process ends when its tests do).
 */
export async function startMongoStandin(options: { unref?: boolean } = {}): Promise<RunningStandin> {
  const standin = new MongoStandin();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    if (options.unref) socket.unref();
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    let pending: Buffer = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      let commands: Command[];
      try {
        ({ commands, rest: pending } = readMessages(pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk));
      } catch {
        socket.destroy(); // a message this stand-in cannot frame: as a server would, drop the connection
        return;
      }
      for (const command of commands) {
        const reply = standin.handle(command.body);
        if (command.expectsReply) socket.write(encodeReply(command, reply));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  if (options.unref) server.unref();
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the stand-in has no TCP address");
  return {
    url: `mongodb://127.0.0.1:${address.port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
