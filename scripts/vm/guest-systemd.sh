#!/bin/bash
# The systemd plan of the cgroup v2 test guest (run-vm.mjs --systemd, kernel argument
# sonocode.systemd=1): deploy/systemd's units under real systemd as PID 1.
#   guest-systemd.sh boot    exec'd by guest-init.sh as PID 1: installs the check unit below,
#                            masks what this guest does not need, execs systemd
#   guest-systemd.sh check   the check unit (sonocode-vm-check.service, after multi-user.target):
#                            installs the evaluator as the units' header comments say (user
#                            sonocode, its subordinate ids, /opt/sonocode, /etc/sonocode/evaluator.env)
#                            and runs scripts/vm/systemd-units.test.ts as root, which starts each
#                            unit with systemctl and judges real BullMQ jobs through it
# Reports over the serial console like guest-init.sh: SONOCODE-VM-SUITE name=systemd, SONOCODE-VM-DONE.
set -u
export PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin
PROJECT=/srv/sonocode
CHECK_UNIT=sonocode-vm-check.service

boot() {
  # Unit files only (the system disk is a throwaway snapshot): the check, after the boot is done.
  cat > "/etc/systemd/system/$CHECK_UNIT" <<EOF
[Unit]
Description=SonoCode VM check: deploy/systemd's units under systemd
After=multi-user.target redis-server.service
Requires=redis-server.service
[Service]
Type=oneshot
ExecStart=/bin/bash $PROJECT/scripts/vm/guest-systemd.sh check
TimeoutStartSec=infinity
EOF
  mkdir -p /etc/systemd/system/multi-user.target.wants
  ln -sfn "/etc/systemd/system/$CHECK_UNIT" "/etc/systemd/system/multi-user.target.wants/$CHECK_UNIT"
  # Debian enables dockerd, containerd and a getty on the serial console (it would share the
  # console with the report); apt's timers and logind (no D-Bus here) are of no use either.
  for unit in docker.service docker.socket containerd.service serial-getty@ttyS0.service getty@tty1.service \
    systemd-logind.service apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer; do
    ln -sfn /dev/null "/etc/systemd/system/$unit"
  done
  echo "SONOCODE-VM-INFO booted uptime=$(cut -d" " -f1 /proc/uptime) kernel=$(uname -r); handing over to systemd ($(readlink -f /lib/systemd/systemd))"
  exec /lib/systemd/systemd
}

check() {
  exec >/dev/ttyS0 2>&1
  local started=$SECONDS rc=0 tap=/tmp/systemd.tap secret
  info() { echo "SONOCODE-VM-INFO $*"; }
  info "systemd $(systemctl --version | head -1 | cut -d' ' -f2) is PID 1 ($(cat /proc/1/comm)); up in $(cut -d' ' -f1 /proc/uptime) s;" \
    "system.slice: $(cat /sys/fs/cgroup/system.slice/cgroup.subtree_control); failed units: $(systemctl list-units --failed --plain --no-legend | cut -d' ' -f1 | tr '\n' ' ')"
  # The install steps of deploy/systemd/sonocode-evaluator.service's header, as a user would run them
  # (uidmap is in the image). The guest's test user "judge" already holds 100000-165535.
  useradd --system --create-home --home-dir /var/lib/sonocode-evaluator sonocode
  usermod --add-subuids 200000-265535 --add-subgids 200000-265535 sonocode
  ln -sfn "$PROJECT" /opt/sonocode
  chmod 755 /srv "$PROJECT"
  mkdir -p /etc/sonocode
  secret=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
  # In this process (no --test): its stderr reaches the console too. Run again once, and said
  # so, only when node died of a signal before any test reported (seen under TCG: SIGILL
  # while loading the test file, no test involved); any other failure stands.
  local attempt node_rc
  for attempt in 1 2; do
    rm -f "$tap"
    (
      cd "$PROJECT"
      exec env HOME=/root LANG=C.UTF-8 NODE_ENV=test NO_COLOR=1 SONOCODE_TEST_SYSTEMD=1 JWT_SECRET="$secret" \
        node --import tsx \
          --test-reporter=spec --test-reporter-destination=stdout \
          --test-reporter=tap --test-reporter-destination="$tap" \
          scripts/vm/systemd-units.test.ts
    )
    node_rc=$?
    if [ "$attempt" = 1 ] && [ "$node_rc" -gt 128 ] && ! grep -qE '^(not )?ok ' "$tap" 2>/dev/null; then
      echo "SONOCODE-VM-RETRY systemd scripts/vm/systemd-units.test.ts: node died of signal $((node_rc - 128)) before any test reported; running again once"
      continue
    fi
    break
  done
  [ "$node_rc" = 0 ] || rc=1
  local pass fail
  pass=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$tap" | tail -1)
  fail=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$tap" | tail -1)
  grep -E '^not ok' "$tap" | sed 's/^/SONOCODE-VM-FAILED /'
  if [ "$rc" != 0 ]; then
    info "the evaluator's journal (last 60 lines):"
    journalctl -u sonocode-evaluator --no-pager -o cat | tail -60
  fi
  echo "SONOCODE-VM-SUITE name=systemd rc=$rc pass=${pass:-0} fail=${fail:-0} seconds=$(( SECONDS - started ))"
  echo "SONOCODE-VM-DONE rc=$rc uptime=$(cut -d' ' -f1 /proc/uptime)"
  sync
  echo 1 > /proc/sys/kernel/sysrq
  echo o > /proc/sysrq-trigger
}

case "${1:-}" in
  boot) boot ;;
  check) check ;;
  *) echo "usage: guest-systemd.sh boot|check" >&2; exit 2 ;;
esac
