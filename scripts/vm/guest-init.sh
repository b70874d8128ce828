#!/bin/bash
# PID 1 of the cgroup v2 test guest (after the initramfs): a minimal init that lays
# out the unified hierarchy the way systemd does on a cgroup-v2-only host, then runs
# the requested test files and reports over the serial console:
#   /sys/fs/cgroup                 cgroup2 (nsdelegate, memory_recursiveprot), every controller enabled
#   /init.scope                    this init (processes never sit in a group whose subtree_control is set)
#   /system.slice/tests.service    the root suite: the judge as root, its runs under /sonocode
#   /system.slice/delegated.service  owned by the unprivileged user "judge" (what Delegate=yes does)
# Kernel command line (set by run-vm.mjs):
#   sonocode.root=<entry,...>  test files run as root (an entry is a file or file@name-pattern)
#   sonocode.user=<entry,...>  test files run as "judge" inside the delegated subtree
#   sonocode.docker=1          start dockerd (data root: the dkr disk) in /system.slice/docker.service
#   sonocode.compose=1         then compose.yaml's stack with Debian's docker-compose (guest-compose.sh)
#   sonocode.systemd=1         none of the above: systemd becomes PID 1 and runs guest-systemd.sh's check
# Output lines the host parses: SONOCODE-VM-INFO, SONOCODE-VM-SUITE, SONOCODE-VM-DONE.
set -u
export PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin
export LANG=C.UTF-8 HOME=/root TMPDIR=/tmp
PROJECT=/srv/sonocode
CG=/sys/fs/cgroup

info() { echo "SONOCODE-VM-INFO $*"; }
finish() {
  echo "SONOCODE-VM-DONE rc=$1 uptime=$(cut -d' ' -f1 /proc/uptime)"
  sync
  echo 1 > /proc/sys/kernel/sysrq
  echo o > /proc/sysrq-trigger
  sleep 30
}
fatal() { echo "SONOCODE-VM-FATAL $*"; finish 2; }

mount -t proc proc /proc
# The systemd plan (run-vm.mjs --systemd): systemd itself is PID 1 and mounts the rest.
grep -qw 'sonocode.systemd=1' /proc/cmdline && exec /bin/bash "$PROJECT/scripts/vm/guest-systemd.sh" boot
mount -t sysfs sysfs /sys
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs /run
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=000 devpts /dev/pts
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
# devtmpfs has no /dev/fd, which bash's process substitution needs (udev would add it).
ln -sfn /proc/self/fd /dev/fd
mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 "$CG" || fatal "cannot mount cgroup2"
info "booted uptime=$(cut -d' ' -f1 /proc/uptime) kernel=$(uname -r) cpus=$(nproc) mem_kb=$(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo)"
hostname sonocode-vm
ip link set lo up

# Only the unified hierarchy: no v1 controller may be mounted (cgroup_no_v1=all).
awk '$3 == "cgroup" { found = 1 } END { exit !found }' /proc/mounts && fatal "a cgroup v1 hierarchy is mounted"
info "cgroup2 controllers: $(cat $CG/cgroup.controllers)"

# Every controller for the whole tree, then move this init out of the root's way.
for controller in $(cat "$CG/cgroup.controllers"); do echo "+$controller" > "$CG/cgroup.subtree_control" || info "cannot enable $controller"; done
mkdir -p "$CG/init.scope" "$CG/system.slice"
echo $$ > "$CG/init.scope/cgroup.procs"
for controller in $(cat "$CG/system.slice/cgroup.controllers"); do echo "+$controller" > "$CG/system.slice/cgroup.subtree_control"; done
info "system.slice controllers: $(cat $CG/system.slice/cgroup.subtree_control)"
[ -f "$CG/init.scope/memory.peak" ] && info "memory.peak present" || info "memory.peak absent (kernel < 5.19): memory.current is polled"

arg() {
  for word in $(cat /proc/cmdline); do
    case "$word" in "sonocode.$1="*) echo "${word#*=}" ;; esac
  done
}

# The tests talk to a real Redis (BullMQ round trip); the guest is alone on its loopback.
redis-server --port 6379 --bind 127.0.0.1 --save "" --appendonly no --maxmemory-policy noeviction --daemonize yes --logfile /tmp/redis.log \
  || fatal "redis-server did not start"
for _ in $(seq 50); do redis-cli -p 6379 ping 2>/dev/null | grep -q PONG && break; sleep 0.2; done

# Docker (the --docker plan): dockerd as systemd would run it, in a service group of its
# own; with no systemd it uses the cgroupfs driver, so containers get /docker/<id> groups.
docker_env=""
if [ "$(arg docker)" = 1 ]; then
  mkdir -p "$CG/system.slice/docker.service"
  # containerd first, waited for as long as it takes: dockerd gives the containerd it starts
  # itself a fixed time, which a TCG guest on a loaded host can miss ("timeout waiting for
  # containerd to start").
  (
    echo "$BASHPID" > "$CG/system.slice/docker.service/cgroup.procs"
    exec containerd --log-level warn >/tmp/containerd.log 2>&1
  ) &
  started=$SECONDS
  until ctr version >/dev/null 2>&1; do
    [ $((SECONDS - started)) -gt 240 ] && { tail -20 /tmp/containerd.log; fatal "containerd did not answer in 240 s"; }
    sleep 1
  done
  (
    echo "$BASHPID" > "$CG/system.slice/docker.service/cgroup.procs"
    exec dockerd --containerd=/run/containerd/containerd.sock --iptables=false --ip-masq=false --bridge=none \
      --storage-driver=overlay2 --log-level=warn >/tmp/dockerd.log 2>&1
  ) &
  until docker info >/dev/null 2>&1; do
    [ $((SECONDS - started)) -gt 360 ] && { tail -20 /tmp/dockerd.log; fatal "dockerd did not answer in 360 s"; }
    sleep 1
  done
  info "dockerd up in $((SECONDS - started)) s: $(docker info -f 'cgroup v{{.CgroupVersion}}, {{.CgroupDriver}} driver, {{.Driver}}, {{.ServerVersion}}') images: $(docker images --format '{{.Repository}}:{{.Tag}}' | tr '\n' ' ')"
  # Docker tests must not skip where the judge's runtime image is there to run them.
  docker image inspect sonocode-runtime:latest >/dev/null 2>&1 && docker_env="SONOCODE_REQUIRE_DOCKER=1"
fi

rc=0
# run_node <name> <cgroup dir> <user> <tap file> <name pattern or ""> <files...>: node's test
# runner in that cgroup, as that user ($extra_env: more NAME=value words for it).
extra_env=
run_node_once() {
  local group=$2 user=$3 tap=$4 pattern=$5
  shift 5
  (
    # A judge that ran before in this group made it an inner node (its processes went to the leaf
    # sonocode-judge): later runs start in that leaf, as a restarted Delegate=yes service would.
    echo "$BASHPID" > "$group/cgroup.procs" 2>/dev/null || echo "$BASHPID" > "$group/sonocode-judge/cgroup.procs"
    cd "$PROJECT"
    exec setpriv --reuid="$user" --regid="$user" --init-groups --reset-env \
      env PATH="$PATH" LANG="$LANG" TMPDIR=/tmp HOME="$(getent passwd "$user" | cut -d: -f6)" NODE_ENV=test NO_COLOR=1 \
      TEST_REDIS_URL=redis://127.0.0.1:6379 SONOCODE_TEST_CGROUP_V2=1 $docker_env $extra_env \
      node --import tsx --test --test-timeout="${test_timeout_ms:-600000}" --test-concurrency=1 \
        ${pattern:+--test-name-pattern="$pattern"} \
        --test-reporter=spec --test-reporter-destination=stdout \
        --test-reporter=tap --test-reporter-destination="$tap" \
        "$@"
  )
}

# kernel_notes: what the kernel said about crashed or killed processes since the last call
# (the console shows errors only): a test file whose process died says nothing itself.
kernel_seen=0
kernel_notes() {
  local lines
  lines=$(dmesg 2>/dev/null | grep -Ei 'segfault|traps:|general protection|invalid opcode|out of memory|killed process|oom-kill' | tail -n +$((kernel_seen + 1)))
  [ -n "$lines" ] || return 0
  kernel_seen=$((kernel_seen + $(printf '%s\n' "$lines" | wc -l)))
  printf '%s\n' "$lines" | tail -20 | sed 's/^/SONOCODE-VM-KERNEL /'
}

# run_node: run_node_once, run again once (and said so) only when the run died of a crash seen
# under TCG that no test caused: a Node process's SIGSEGV. In tsx's WebAssembly module lexer
# it shows as "memory access out of bounds" while loading a module, in a test file or in a judge
# process a test spawned (Node prints it as "RuntimeError: ..." or "Error [RuntimeError]: ...");
# elsewhere as a test file whose process ended without reporting any test (TAP names the failure
# after the file itself, with its signal). Multi-threaded TCG is the suspect: run-vm.mjs now runs
# the guest's vCPUs on one host thread. Any other failure stands, and a crash that comes back
# fails the second run.
run_node() {
  local log="/tmp/run-node.$BASHPID.log" tap=$4 run_rc attempt
  for attempt in 1 2; do
    run_node_once "$@" 2>&1 | tee "$log"
    run_rc=${PIPESTATUS[0]}
    [ "$run_rc" = 0 ] && return 0
    kernel_notes
    [ "$attempt" = 2 ] && break
    if grep -Eq 'RuntimeError\]?: memory access out of bounds' "$log" && grep -q 'tsx/dist/lexer' "$log"; then
      echo "SONOCODE-VM-RETRY $1 ${*:6}: tsx's wasm lexer crashed while loading a module; running again once"
      continue
    fi
    if [ -f "$tap" ] && grep -Eq '^not ok [0-9]+ - /.*\.test\.ts$' "$tap"; then
      echo "SONOCODE-VM-RETRY $1 ${*:6}: a test file's process ended without reporting a test ($(grep -A9 -E '^not ok [0-9]+ - /.*\.test\.ts$' "$tap" | grep -E '^not ok|^ +(exitCode|signal):' | sed 's/^not ok [0-9]* - //; s/^ *//' | tr '\n' ' ')); running again once"
      continue
    fi
    return "$run_rc"
  done
  return "$run_rc"
}

# count_tap <file>: adds its passes and failures to tap_pass/tap_fail, reports each failure.
count_tap() {
  local count
  [ -f "$1" ] || return 0
  count=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$1" | tail -1); tap_pass=$((tap_pass + ${count:-0}))
  count=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$1" | tail -1); tap_fail=$((tap_fail + ${count:-0}))
  grep -E '^not ok' "$1" | sed 's/^/SONOCODE-VM-FAILED /'
}

# run_suite <name> <cgroup dir> <user> <entry,...>: an entry is a test file, or file@pattern
# (only the tests whose name, or whose suite's name, matches); plain files share one run.
run_suite() {
  local name=$1 group=$2 user=$3 started=$SECONDS suite_rc=0 n=0 plain=() entry
  [ -n "$4" ] || return 0
  info "suite $name: ${4//,/ } (as $user, in ${group#$CG})"
  rm -f /tmp/"$name".*.tap
  for entry in ${4//,/ }; do
    if [[ "$entry" == *@* ]]; then
      n=$((n + 1))
      run_node "$name" "$group" "$user" "/tmp/$name.$n.tap" "${entry#*@}" "${entry%%@*}" || suite_rc=1
    else
      plain+=("$entry")
    fi
  done
  if [ "${#plain[@]}" -gt 0 ]; then
    run_node "$name" "$group" "$user" "/tmp/$name.0.tap" "" "${plain[@]}" || suite_rc=1
  fi
  local tap
  tap_pass=0 tap_fail=0
  for tap in /tmp/"$name".*.tap; do count_tap "$tap"; done
  local pass=$tap_pass fail=$tap_fail
  echo "SONOCODE-VM-SUITE name=$name rc=$suite_rc pass=$pass fail=$fail seconds=$(( SECONDS - started ))"
  [ "$suite_rc" = 0 ] || rc=1
}

# Root: like a systemd service running the evaluator as root (its runs go to /sonocode at the top).
mkdir -p "$CG/system.slice/tests.service"
run_suite root "$CG/system.slice/tests.service" root "$(arg root)"

# Delegated: what systemd's Delegate=yes gives a User= service: the group and its
# cgroup.procs, cgroup.subtree_control and cgroup.threads belong to the user, and every
# controller of the parent is available in it.
delegated="$CG/system.slice/delegated.service"
mkdir -p "$delegated"
chown judge:judge "$delegated" "$delegated/cgroup.procs" "$delegated/cgroup.subtree_control" "$delegated/cgroup.threads"
chmod 755 /srv /srv/sonocode
run_suite user "$delegated" judge "$(arg user)"

# compose.yaml's stack in this guest's dockerd (the dkr disk holds sonocode-app).
if [ "$(arg compose)" = 1 ]; then
  . "$PROJECT/scripts/vm/guest-compose.sh"
  run_compose || rc=1
fi

redis-cli -p 6379 shutdown nosave >/dev/null 2>&1
finish "$rc"
