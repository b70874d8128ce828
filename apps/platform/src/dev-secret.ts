import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { MIN_SECRET_LENGTH } from "@sonocode/auth";

/** Where embedded mode keeps the secret it generated: next to the PGlite data and Redis files. */
export const SECRET_FILE_NAME = "jwt-secret";

export class SecretFileError extends Error {
  override name = "SecretFileError";
}

export type SecretSource = "env" | "file" | "generated" | "ephemeral";

export interface ResolvedSecret {
  secret: string;
  source: SecretSource;
  /** The file holding it (source "file" or "generated"). */
  path?: string | undefined;
}

function newSecret(): string {
  return randomBytes(32).toString("base64url"); // 43 characters, 256 bits
}

/**
 * The secret embedded mode (and the token CLI) signs with. JWT_SECRET wins when
 * set. Otherwise DATA_DIR/jwt-secret is reused, or created with mode 0600 (O_EXCL,
 * so two processes starting at once agree on one secret). A file others can read
 * is refused, as ssh refuses a readable private key. With DATA_DIR ":memory:"
 * nothing is persisted: a fresh secret lives as long as the process.
 */
export async function resolveJwtSecret(env: { jwtSecret?: string | undefined; dataDir: string }): Promise<ResolvedSecret> {
  if (env.jwtSecret) return { secret: env.jwtSecret, source: "env" };
  if (env.dataDir === ":memory:") return { secret: newSecret(), source: "ephemeral" };

  await mkdir(env.dataDir, { recursive: true, mode: 0o700 });
  const path = join(env.dataDir, SECRET_FILE_NAME);
  try {
    const handle = await open(path, "wx", 0o600);
    try {
      const secret = newSecret();
      await handle.writeFile(`${secret}\n`);
      await handle.sync();
      return { secret, source: "generated", path };
    } finally {
      await handle.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  return { secret: await readSecretFile(path), source: "file", path };
}

async function readSecretFile(path: string): Promise<string> {
  const info = await stat(path);
  if ((info.mode & 0o077) !== 0) {
    throw new SecretFileError(`${path} is readable by other users (mode ${(info.mode & 0o777).toString(8)}); run: chmod 600 ${path}`);
  }
  // A concurrent creator may not have written yet: the file is created, then filled.
  for (let attempt = 0; ; attempt += 1) {
    const secret = (await readFile(path, "utf8")).trim();
    if (secret.length >= MIN_SECRET_LENGTH) return secret;
    if (attempt >= 20) throw new SecretFileError(`${path} holds no secret of ${MIN_SECRET_LENGTH}+ characters; delete it to generate a new one`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
