// The MongoDB wire protocol's framing, as much of it as the official driver speaks to a
// standalone server (the protocol's public specification, "MongoDB Wire Protocol"): OP_MSG for
// every command, and OP_QUERY/OP_REPLY for the legacy first handshake the driver sends before it
// knows the server's wire version. No compression is offered, so OP_COMPRESSED never arrives.
// Part of the MongoDB-wire-compatible stand-in, not MongoDB (see mongo-standin.server.ts).
import { BSON, type Document } from "mongodb";

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_MSG = 2013;
const HEADER_BYTES = 16;
/** OP_MSG flag bits: a CRC-32C trails the message; the sender wants no reply (w: 0 writes). */
const CHECKSUM_PRESENT = 1 << 0;
const MORE_TO_COME = 1 << 1;

export interface Command {
  requestId: number;
  /** OP_MSG or OP_QUERY: the reply is framed as the request was. */
  opCode: typeof OP_MSG | typeof OP_QUERY;
  /** The command document, with any OP_MSG document sequence merged in under its identifier. */
  body: Document;
  expectsReply: boolean;
}

function cstring(buffer: Buffer, offset: number): [string, number] {
  const end = buffer.indexOf(0, offset);
  if (end < 0) throw new Error("unterminated cstring");
  return [buffer.toString("utf8", offset, end), end + 1];
}

function bsonAt(buffer: Buffer, offset: number): [Document, number] {
  const size = buffer.readInt32LE(offset);
  return [BSON.deserialize(buffer.subarray(offset, offset + size)), offset + size];
}

function parseOpMsg(message: Buffer, requestId: number): Command {
  const flags = message.readUInt32LE(HEADER_BYTES);
  const end = message.length - (flags & CHECKSUM_PRESENT ? 4 : 0);
  let offset = HEADER_BYTES + 4;
  let body: Document | undefined;
  const sequences: [string, Document[]][] = [];
  while (offset < end) {
    const kind = message.readUInt8(offset++);
    if (kind === 0) {
      [body, offset] = bsonAt(message, offset);
    } else if (kind === 1) {
      const sectionEnd = offset + message.readInt32LE(offset);
      let [identifier, at] = cstring(message, offset + 4);
      const docs: Document[] = [];
      while (at < sectionEnd) {
        let doc: Document;
        [doc, at] = bsonAt(message, at);
        docs.push(doc);
      }
      sequences.push([identifier, docs]);
      offset = sectionEnd;
    } else {
      throw new Error(`OP_MSG section kind ${kind} is not defined`);
    }
  }
  if (!body) throw new Error("OP_MSG without a body section");
  for (const [identifier, docs] of sequences) body[identifier] = docs;
  return { requestId, opCode: OP_MSG, body, expectsReply: (flags & MORE_TO_COME) === 0 };
}

function parseOpQuery(message: Buffer, requestId: number): Command {
  // flags, then the namespace ("admin.$cmd"), numberToSkip and numberToReturn, then the query.
  const [, afterName] = cstring(message, HEADER_BYTES + 4);
  const [query] = bsonAt(message, afterName + 8);
  // A read preference wraps the command as { $query: command, $readPreference }.
  const body = typeof query["$query"] === "object" && query["$query"] !== null ? (query["$query"] as Document) : query;
  return { requestId, opCode: OP_QUERY, body, expectsReply: true };
}

/** Splits the complete messages off the front of `buffer`; returns them and the unread rest. */
export function readMessages(buffer: Buffer): { commands: Command[]; rest: Buffer } {
  const commands: Command[] = [];
  let offset = 0;
  while (buffer.length - offset >= HEADER_BYTES) {
    const length = buffer.readInt32LE(offset);
    if (length < HEADER_BYTES) throw new Error(`message length ${length} is shorter than its header`);
    if (buffer.length - offset < length) break;
    const message = buffer.subarray(offset, offset + length);
    const requestId = message.readInt32LE(4);
    const opCode = message.readInt32LE(12);
    if (opCode === OP_MSG) commands.push(parseOpMsg(message, requestId));
    else if (opCode === OP_QUERY) commands.push(parseOpQuery(message, requestId));
    else throw new Error(`opCode ${opCode} is not spoken by this stand-in`);
    offset += length;
  }
  return { commands, rest: buffer.subarray(offset) };
}

let nextRequestId = 1;

/** The reply to `command`, framed as it was asked (OP_MSG, or OP_REPLY to an OP_QUERY). */
export function encodeReply(command: Command, reply: Document): Buffer {
  const doc = BSON.serialize(reply, { ignoreUndefined: true });
  const prefix = command.opCode === OP_MSG ? Buffer.alloc(4 + 1) : Buffer.alloc(4 + 8 + 4 + 4);
  if (command.opCode === OP_MSG) {
    prefix.writeUInt32LE(0, 0); // no flags
    prefix.writeUInt8(0, 4); // one body section
  } else {
    prefix.writeInt32LE(0, 0); // responseFlags
    prefix.writeBigInt64LE(0n, 4); // cursorID: no cursor
    prefix.writeInt32LE(0, 12); // startingFrom
    prefix.writeInt32LE(1, 16); // numberReturned
  }
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeInt32LE(HEADER_BYTES + prefix.length + doc.length, 0);
  header.writeInt32LE(nextRequestId++, 4);
  header.writeInt32LE(command.requestId, 8);
  header.writeInt32LE(command.opCode === OP_MSG ? OP_MSG : OP_REPLY, 12);
  return Buffer.concat([header, prefix, doc]);
}
