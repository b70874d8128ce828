#!/usr/bin/env bash
# The one test command (npm test): installs what is missing, starts throwaway
# Redis and PostgreSQL servers on free ports, type-checks, runs every test.
# Pass test file paths to run only those: npm test -- packages/judge/test/foo.test.ts
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
# setup.sh --test started dockerd, imported the runtime image and installed chromium:
# the Docker and browser tests must run, not skip.
export SONOCODE_REQUIRE_DOCKER=1
export SONOCODE_REQUIRE_BROWSER=1
exec node scripts/run-tests.mjs "$@"
