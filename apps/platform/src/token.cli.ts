// Mints a dev token: npm run token -- --sub alice --role user [--expires 12h]
// Signs with JWT_SECRET, or else with the embedded platform's DATA_DIR/jwt-secret
// (created if absent, so a platform started afterwards accepts the token).
import { parseArgs } from "node:util";
import { z } from "zod";
import { signToken } from "@sonocode/auth";
import { roleSchema } from "@sonocode/contracts";
import { loadConfig } from "@sonocode/config";
import { platformEnvSchema } from "./config.js";
import { resolveJwtSecret } from "./dev-secret.js";

const USAGE = "usage: npm run token -- --sub <user id> --role user|admin [--expires 12h]\n";

const { values } = parseArgs({
  options: {
    sub: { type: "string", default: "dev-user" },
    role: { type: "string", default: "user" },
    expires: { type: "string", default: "12h" },
  },
});
const config = loadConfig(platformEnvSchema.pick({ JWT_SECRET: true, DATA_DIR: true }));
const role = roleSchema.safeParse(values.role);
const sub = z.string().min(1).max(128).safeParse(values.sub);
if (!role.success || !sub.success) {
  process.stderr.write(USAGE);
  process.exit(2);
}
if (config.DATA_DIR === ":memory:" && !config.JWT_SECRET) {
  process.stderr.write("DATA_DIR=:memory: keeps no secret to sign with; set JWT_SECRET\n");
  process.exit(2);
}
const { secret } = await resolveJwtSecret({ jwtSecret: config.JWT_SECRET, dataDir: config.DATA_DIR });
try {
  process.stdout.write(`${await signToken({ sub: sub.data, role: role.data }, secret, values.expires)}\n`);
} catch {
  // jose refuses an unparsable --expires
  process.stderr.write(USAGE);
  process.exit(2);
}
