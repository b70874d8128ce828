# Sourced by guest-init.sh when sonocode.compose=1 (run-vm.mjs --compose): compose.yaml as a
# user runs it, on this cgroup-v2-only guest, with Debian's docker-compose 1.29 and dockerd
# 20.10 (cgroupfs driver, so each container gets /docker/<id> and, on v2, a private cgroup
# namespace whose root is that group). Up: Redis, PostgreSQL, problem, submission, one
# socket replica and two evaluators, exactly as compose.yaml defines them (capabilities,
# seccomp profile, masked /proc, the runtime bind); web is left out (it builds its app on
# start, minutes under TCG, and judges nothing). Then compose.e2e.ts (plan "tcg": C, every
# verdict, generous limits) through the public ports and the socket, then how each
# evaluator sits on v2 (below), then down -v. Prints one SONOCODE-VM-SUITE line.
# Uses guest-init.sh's info, run_node, count_tap, CG and PROJECT.

COMPOSE_PROJECT=sonocode-vm
# docker-compose gives each API call 60 s; under TCG creating a container alone can take longer.
export COMPOSE_HTTP_TIMEOUT=900
# compose.tcg.yaml only lengthens Redis's and PostgreSQL's healthchecks for emulation.
dc() { (cd "$PROJECT" && docker-compose -p "$COMPOSE_PROJECT" -f compose.yaml -f scripts/vm/compose.tcg.yaml "$@"); }
hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

# compose_checks <evaluator container id...>: what the e2e cannot see from outside.
compose_checks() {
  local id pid path caps ooms=0 events
  for id in "$@"; do
    pid=$(docker inspect -f '{{.State.Pid}}' "$id")
    # Exactly compose.yaml's five capabilities (the same value test-compose.sh checks on v1).
    caps=$(sed -n 's/^CapEff:[[:space:]]*//p' "/proc/$pid/status")
    check "evaluator ${id:0:12}: CapEff $caps" test "$caps" = 00000000082000c2
    # A private cgroup namespace rooted at the container's group.
    check "evaluator ${id:0:12}: private cgroup namespace" test "$(readlink "/proc/$pid/ns/cgroup")" != "$(readlink /proc/1/ns/cgroup)"
    check "evaluator ${id:0:12}: sees itself below its namespace root ($(docker exec "$id" cat /proc/1/cgroup))" \
      sh -c "docker exec $id cat /proc/1/cgroup | grep -qx '0::/[a-z-][a-z-]*'"
    # Its processes left the namespace root (no internal processes where controllers are enabled)
    # and the runs' parent is the container's own group, with memory and pids for the runs.
    path="$CG/docker/$id"
    check "evaluator ${id:0:12}: no process in the container's root group" test -z "$(cat "$path/cgroup.procs")"
    check "evaluator ${id:0:12}: run parent $path/sonocode enables memory and pids ($(cat "$path/sonocode/cgroup.subtree_control" 2>/dev/null))" \
      sh -c "grep -qw memory '$path/sonocode/cgroup.subtree_control' && grep -qw pids '$path/sonocode/cgroup.subtree_control'"
    events=$(sed -n 's/^oom_kill //p' "$path/sonocode/memory.events" 2>/dev/null)
    ooms=$((ooms + ${events:-0}))
  done
  # The memory hog's MLE came from a v2 OOM kill inside an evaluator's own subtree.
  check "an OOM kill counted in an evaluator's sonocode/memory.events ($ooms)" test "$ooms" -ge 1
}

check() { # <label> <command...>
  local label=$1
  shift
  if "$@"; then tap_pass=$((tap_pass + 1)); echo "ok - compose: $label"
  else tap_fail=$((tap_fail + 1)); echo "SONOCODE-VM-FAILED not ok - compose: $label"; fi
}

run_compose() {
  local started=$SECONDS suite_rc=0 t_up evaluators socket_port ev1 ev2
  tap_pass=0 tap_fail=0
  info "suite compose: docker-compose $(docker-compose version --short) up: redis postgres problem submission socket evaluator x2"
  export JWT_SECRET POSTGRES_PASSWORD PROBLEM_SERVICE_HOST_PORT=4001 SUBMISSION_SERVICE_HOST_PORT=4002
  JWT_SECRET=$(hex 32)
  POSTGRES_PASSWORD=$(hex 16)
  if dc up -d --scale evaluator=2 --scale socket=1 redis postgres problem submission socket evaluator; then
    t_up=$((SECONDS - started))
    info "compose up in $t_up s"
    socket_port=$(dc port --index=1 socket 4003 | sed 's/.*://')
    ev1=$(dc port --index=1 evaluator 4004 | sed 's/.*://')
    ev2=$(dc port --index=2 evaluator 4004 | sed 's/.*://')
    extra_env="COMPOSE_E2E_PLAN=tcg JWT_SECRET=$JWT_SECRET PROBLEM_URL=http://127.0.0.1:4001 SUBMISSION_URL=http://127.0.0.1:4002"
    extra_env="$extra_env SOCKET_URLS=http://127.0.0.1:$socket_port EVALUATOR_URLS=http://127.0.0.1:$ev1,http://127.0.0.1:$ev2"
    rm -f /tmp/compose.tap
    # compose.e2e.ts bounds its own waits (5x the v1 ones under its tcg plan).
    test_timeout_ms=3600000 run_node compose "$CG/system.slice/tests.service" root /tmp/compose.tap "" scripts/compose/compose.e2e.ts || suite_rc=1
    extra_env=""
    count_tap /tmp/compose.tap
    mapfile -t evaluators < <(dc ps -q evaluator)
    compose_checks "${evaluators[@]}"
  else
    suite_rc=1
    echo "SONOCODE-VM-FAILED not ok - compose: docker-compose up"
  fi
  if [ "$suite_rc" != 0 ] || [ "$tap_fail" != 0 ]; then
    info "compose failed; the containers' last log lines, then dockerd's:"
    dc logs --no-color --tail=60
    tail -30 /tmp/dockerd.log
  fi
  dc down -v --remove-orphans --timeout 20 >/dev/null 2>&1 || dc down -v --remove-orphans
  echo "SONOCODE-VM-SUITE name=compose rc=$suite_rc pass=$tap_pass fail=$tap_fail seconds=$(( SECONDS - started ))"
  [ "$suite_rc" = 0 ] && [ "$tap_fail" = 0 ]
}
