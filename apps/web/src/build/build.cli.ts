// npm run build -w @sonocode/web: builds the app into apps/web/dist (or WEB_DIST_DIR) unless current.
import { ensureClientBuilt } from "./client-build.js";

const result = await ensureClientBuilt(process.argv[2]);
process.stdout.write(`${result.built ? "built" : "up to date:"} ${result.distDir} (${result.ms} ms)\n`);
