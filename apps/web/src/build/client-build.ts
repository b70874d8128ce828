import { createHash } from "node:crypto";
import { mkdir, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const WEB_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const CLIENT_DIR = join(WEB_ROOT, "client");
export const DEFAULT_DIST_DIR = join(WEB_ROOT, "dist");
const STAMP = ".build-hash";

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** A hash of everything the bundle is made of: the client sources and the versions pinned for them. */
async function sourceHash(): Promise<string> {
  const hash = createHash("sha256");
  const inputs = [...(await filesUnder(CLIENT_DIR)), join(WEB_ROOT, "package.json"), fileURLToPath(import.meta.url)];
  for (const file of inputs) {
    hash.update(relative(WEB_ROOT, file)).update("\0").update(await readFile(file)).update("\0");
  }
  return hash.digest("hex").slice(0, 16);
}

export interface ClientBuild {
  distDir: string;
  /** False when an up-to-date build was already there. */
  built: boolean;
  ms: number;
}

/**
 * Builds the single-page app with Vite unless distDir already holds a build of the current
 * sources (a hash stamp), so `npm start` and the browser test pay for it once. The build goes
 * to a fresh directory renamed into place: a half-written dist is never served.
 */
export async function ensureClientBuilt(distDir: string = DEFAULT_DIST_DIR): Promise<ClientBuild> {
  const started = Date.now();
  const hash = await sourceHash();
  const current = await readFile(join(distDir, STAMP), "utf8").catch(() => "");
  if (current.trim() === hash) return { distDir, built: false, ms: Date.now() - started };

  // Imported here: the server never loads Vite (and its dependencies) when the build is current.
  const { build } = await import("vite");
  const staging = `${distDir}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(dirname(distDir), { recursive: true });
  try {
    await build({
      configFile: false,
      root: CLIENT_DIR,
      base: "/",
      logLevel: "warn",
      build: { outDir: staging, emptyOutDir: true, target: "es2022", sourcemap: false, chunkSizeWarningLimit: 1024 },
    });
    await writeFile(join(staging, STAMP), `${hash}\n`);
    await rm(distDir, { recursive: true, force: true });
    try {
      await rename(staging, distDir);
    } catch (error) {
      // Another process (npm start beside a test) put the same build in place first: keep its.
      const theirs = await readFile(join(distDir, STAMP), "utf8").catch(() => "");
      if (theirs.trim() !== hash) throw error;
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return { distDir, built: true, ms: Date.now() - started };
}
