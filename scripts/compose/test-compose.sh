#!/usr/bin/env bash
# npm run test:compose: the compose deployment, end to end, on this machine.
#   1. setup (docker, docker-compose, the judge runtime rootfs) and the images (offline);
#   2. `up` with 2 evaluators and 2 socket-service replicas, a fresh JWT_SECRET and free host
#      ports, under a project name of its own (nothing shared with another stack);
#   3. compose.e2e.ts judges one program per language (and WA/CE/MLE/TLE) through the public
#      ports and checks every verdict on a socket to each replica;
#   4. tears everything down, volumes included, whatever happened (logs are shown on failure).
# Needs root (debootstrap, dockerd). Prints how long each phase took.
set -euo pipefail
cd "$(dirname "$0")/../.."

log() { printf '[compose-test] %s\n' "$*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }

t0=$(now)
bash scripts/setup.sh --compose
t_setup=$(since "$t0")

if docker compose version >/dev/null 2>&1; then compose=(docker compose); else compose=(docker-compose); fi

t1=$(now)
export SONOCODE_APP_IMAGE="${SONOCODE_APP_IMAGE:-sonocode-app:latest}"
bash scripts/image/build.sh >/dev/null
t_build=$(since "$t1")

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
project="sonocode-test-$$"
export JWT_SECRET="$(openssl rand -hex 32)" POSTGRES_PASSWORD="$(openssl rand -hex 16)"
export PROBLEM_SERVICE_HOST_PORT="$(free_port)" SUBMISSION_SERVICE_HOST_PORT="$(free_port)" WEB_HOST_PORT="$(free_port)"
dc() { "${compose[@]}" -p "$project" -f compose.yaml "$@"; }

status=1
cleanup() {
  if [ "$status" != 0 ]; then
    log "failed; last log lines of every container:"
    dc logs --no-color --tail=40 >&2 || true
  fi
  log "tearing down $project"
  dc down -v --remove-orphans --timeout 10 >/dev/null 2>&1 || dc down -v --remove-orphans >&2 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

t2=$(now)
log "up: $project (${compose[*]}), 2 evaluators, 2 socket replicas"
dc up -d --scale evaluator=2 --scale socket=2 >&2
t_up=$(since "$t2")

url() { echo "http://127.0.0.1:$(dc port --index="$2" "$1" "$3" | sed 's/.*://')"; }
export PROBLEM_URL="http://127.0.0.1:$PROBLEM_SERVICE_HOST_PORT" SUBMISSION_URL="http://127.0.0.1:$SUBMISSION_SERVICE_HOST_PORT" WEB_URL="http://127.0.0.1:$WEB_HOST_PORT"
export SOCKET_URLS="$(url socket 1 4003),$(url socket 2 4003)" EVALUATOR_URLS="$(url evaluator 1 4004),$(url evaluator 2 4004)"

t3=$(now)
node --import tsx --test scripts/compose/compose.e2e.ts
# The evaluators judged every language with exactly the capabilities compose.yaml grants
# (SYS_ADMIN, SETUID, SETGID, MKNOD, DAC_OVERRIDE) and nothing more.
for i in 1 2; do
  caps=$(dc exec -T --index="$i" evaluator sh -c 'sed -n "s/^CapEff:[[:space:]]*//p" /proc/1/status')
  [ "$caps" = 00000000082000c2 ] || { log "evaluator $i runs with capabilities $caps, not 00000000082000c2"; exit 1; }
done
status=0
t_test=$(since "$t3")
log "passed. setup $t_setup, images $t_build, up $t_up, healthy + judging $t_test (teardown follows)"
