// Mints a dev token: npm run token -- --sub alice --role user [--expires 12h]
import { parseArgs } from "node:util";
import { z } from "zod";
import { signToken } from "@sonocode/auth";
import { roleSchema } from "@sonocode/contracts";
import { baseEnvSchema, loadConfig } from "@sonocode/config";

const { values } = parseArgs({
  options: {
    sub: { type: "string", default: "dev-user" },
    role: { type: "string", default: "user" },
    expires: { type: "string", default: "12h" },
  },
});
const config = loadConfig(baseEnvSchema);
const role = roleSchema.safeParse(values.role);
const sub = z.string().min(1).max(128).safeParse(values.sub);
if (!role.success || !sub.success) {
  process.stderr.write("usage: npm run token -- --sub <user id> --role user|admin [--expires 12h]\n");
  process.exit(2);
}
process.stdout.write(`${await signToken({ sub: sub.data, role: role.data }, config.JWT_SECRET, values.expires)}\n`);
