#!/usr/bin/env bash
# npm start: installs what is missing, then runs the whole platform in one process
# (embedded mode: PGlite, a local redis-server unless REDIS_URL is set, the bwrap sandbox).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node --import tsx apps/platform/src/main.ts
