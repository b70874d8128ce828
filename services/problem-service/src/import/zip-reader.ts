// Reads an uploaded zip into memory, entry by entry, refusing what could hurt the service
// before it is inflated: too many entries, paths that leave the package, entries or totals
// larger than the caps (declared sizes checked up front, actual bytes counted while
// inflating, so a lying header cannot slip a zip bomb through), links and encryption.
import yauzl, { type Entry, type ZipFile } from "yauzl";
import { AppError } from "@sonocode/errors";

export interface ZipLimits {
  /** Entries in the central directory, directories included. */
  maxEntries: number;
  /** Inflated bytes of one file. */
  maxEntryBytes: number;
  /** Inflated bytes of all files together. */
  maxTotalBytes: number;
}

/** What a package can never be: a 400 naming the reason (and the entry, cut short). */
export function badPackage(message: string): AppError {
  return new AppError("VALIDATION_FAILED", `invalid problem package: ${message}`);
}

function shown(name: string): string {
  return JSON.stringify(name.length > 120 ? `${name.slice(0, 120)}…` : name);
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

/** Zip64 can declare sizes past 2^53; anything over the caps is refused before reading anyway. */
function declaredTooLarge(entry: Entry, limits: ZipLimits): boolean {
  return !Number.isSafeInteger(entry.uncompressedSize) || entry.uncompressedSize > limits.maxEntryBytes;
}

/** yauzl's own refusals, in the words a package author understands. */
function translate(error: Error): AppError {
  const message = error.message;
  if (/^(invalid relative path|absolute path|invalid characters in fileName)/.test(message)) {
    return badPackage(`entry path leaves the package or is not portable (${message.slice(0, 160)})`);
  }
  if (/too many bytes in the stream/.test(message)) {
    return badPackage(`an entry inflates past the size its header declares (a zip bomb?)`);
  }
  if (/too few bytes|expected uncompressed size|inflate|invalid|unexpected|end of central directory|signature/i.test(message)) {
    return badPackage(`not a valid zip archive (${message.slice(0, 160)})`);
  }
  return badPackage(`the zip archive could not be read (${message.slice(0, 160)})`);
}

function open(buffer: Buffer): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buffer, { lazyEntries: true, validateEntrySizes: true, decodeStrings: true, strictFileNames: false }, (error, zip) => {
      if (error) reject(translate(error));
      else resolve(zip);
    });
  });
}

/** Inflates one entry, counting every byte: past `budget` (its share of the caps) it stops and refuses. */
function inflate(zip: ZipFile, entry: Entry, budget: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (error, stream) => {
      if (error) {
        reject(translate(error));
        return;
      }
      const chunks: Buffer[] = [];
      let bytes = 0;
      stream.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > budget) {
          stream.destroy();
          reject(badPackage(`${shown(entry.fileName)} inflates past the size limit (a zip bomb?)`));
          return;
        }
        chunks.push(chunk);
      });
      stream.on("error", (streamError: Error) => reject(translate(streamError)));
      stream.on("end", () => resolve(Buffer.concat(chunks, bytes)));
    });
  });
}

/**
 * Every file of the archive by its path ("a/b.in"), directories left out. Rejects with a
 * 400 AppError on the first thing wrong; nothing is written anywhere.
 */
export async function readZip(buffer: Buffer, limits: ZipLimits): Promise<Map<string, Buffer>> {
  const zip = await open(buffer);
  try {
    if (zip.entryCount > limits.maxEntries) throw badPackage(`${zip.entryCount} entries; at most ${limits.maxEntries} are accepted`);
    const files = new Map<string, Buffer>();
    let declaredTotal = 0;
    let total = 0;
    for (;;) {
      const entry = await new Promise<Entry | null>((resolve, reject) => {
        const onEntry = (next: Entry) => {
          zip.off("end", onEnd);
          zip.off("error", onError);
          resolve(next);
        };
        const onEnd = () => {
          zip.off("entry", onEntry);
          zip.off("error", onError);
          resolve(null);
        };
        const onError = (error: Error) => {
          zip.off("entry", onEntry);
          zip.off("end", onEnd);
          reject(translate(error));
        };
        zip.once("entry", onEntry);
        zip.once("end", onEnd);
        zip.once("error", onError);
        zip.readEntry();
      });
      if (entry === null) return files;
      const name = entry.fileName;
      if (name.endsWith("/")) continue;
      if (((entry.externalFileAttributes >>> 16) & S_IFMT) === S_IFLNK) throw badPackage(`${shown(name)} is a symbolic link; packages hold plain files only`);
      if (entry.isEncrypted()) throw badPackage(`${shown(name)} is encrypted`);
      if (!entry.canDecodeFileData()) throw badPackage(`${shown(name)} uses an unsupported compression method`);
      if (files.has(name)) throw badPackage(`${shown(name)} appears twice`);
      if (declaredTooLarge(entry, limits)) throw badPackage(`${shown(name)} is larger than ${limits.maxEntryBytes} bytes`);
      declaredTotal += entry.uncompressedSize;
      if (declaredTotal > limits.maxTotalBytes) throw badPackage(`the files inflate to more than ${limits.maxTotalBytes} bytes in all`);
      const data = await inflate(zip, entry, Math.min(limits.maxEntryBytes, limits.maxTotalBytes - total));
      total += data.length;
      files.set(name, data);
    }
  } finally {
    // Closing a zip read from memory releases nothing external; it must not mask the real error.
    try {
      zip.close();
    } catch {
      // already closed
    }
  }
}
