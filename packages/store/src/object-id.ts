import { ObjectId } from "bson";

const HEX_ID = /^[0-9a-f]{24}$/i;

/** A fresh 24-hex ObjectId string: the id of every new problem and submission, whatever the adapter. */
export function newObjectId(): string {
  return new ObjectId().toHexString();
}

/**
 * The canonical (lowercase) form of an id, or null when the string is not a
 * 24-hex ObjectId. Repositories answer "not found" for such ids instead of
 * throwing, so a malformed URL parameter can never become a 500.
 * (bson's ObjectId.isValid also accepts any 12-byte string, hence the regex.)
 */
export function normalizeId(id: string): string | null {
  return typeof id === "string" && HEX_ID.test(id) ? id.toLowerCase() : null;
}
