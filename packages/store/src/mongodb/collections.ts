import type { PaginationQuery } from "@sonocode/contracts";
// The driver's own ObjectId (a re-export of bson), so instanceof checks inside the driver hold.
import { ObjectId, type Collection, type Document, type Filter, type WithId } from "mongodb";
import type { Page } from "../ports.js";

/** Newest first; _id breaks ties between documents created in the same millisecond. */
const NEWEST_FIRST = { createdAt: -1, _id: -1 } as const;

/** Ids reach the adapter canonical (validated() answers "not found" for the rest). */
export function objectId(key: string): ObjectId {
  return ObjectId.createFromHexString(key);
}

/** One page, newest first, with the total matching the filter; the count runs alongside the find. */
export async function findPage<D extends Document, T>(collection: Collection<D>, filter: Filter<D>, query: PaginationQuery, map: (doc: WithId<D>) => T): Promise<Page<T>> {
  const [docs, total] = await Promise.all([
    collection
      .find(filter)
      .sort(NEWEST_FIRST)
      .skip((query.page - 1) * query.limit)
      .limit(query.limit)
      .toArray(),
    collection.countDocuments(filter),
  ]);
  return { items: docs.map(map), total };
}

