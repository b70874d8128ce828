#!/bin/sh
# PID 1 of the guest's initramfs (busybox): loads the disk modules, mounts the three
# disks by their virtio serial (sys, rt, src: set by run-vm.mjs; and dkr, the Docker data
# root, when sonocode.docker=1), and hands over to the project's guest init
# (scripts/vm/guest-init.sh) on the system disk.
# "sonocode.probe" on the kernel command line only proves the guest boots (KVM probe).
export PATH=/bin
mount -t proc proc /proc 2>/dev/null || { mkdir -p /proc && mount -t proc proc /proc; }
mkdir -p /sys /dev /newroot
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

fail() {
  echo "SONOCODE-VM-FATAL initramfs: $*"
  poweroff -f
}

case " $(cat /proc/cmdline) " in
  *" sonocode.probe "*) echo "SONOCODE-PROBE-OK"; poweroff -f ;;
esac

while read -r module; do
  insmod "/modules/$module" || fail "insmod $module"
done < /modules/order

arg() { # value of sonocode.<name>= on the kernel command line
  for word in $(cat /proc/cmdline); do
    case "$word" in "sonocode.$1="*) echo "${word#*=}" ;; esac
  done
}

disk() { # /dev node of the virtio disk with this serial
  for attempt in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    for dev in /sys/block/vd*; do
      [ -f "$dev/serial" ] && [ "$(cat "$dev/serial")" = "$1" ] && { echo "/dev/${dev##*/}"; return 0; }
    done
    usleep 250000
  done
  return 1
}

sys=$(disk sys) || fail "no system disk"
rt=$(disk rt) || fail "no runtime disk"
src=$(disk src) || fail "no project disk"
runtime_name=$(arg runtime)
[ -n "$runtime_name" ] || fail "no sonocode.runtime= on the command line"

mount -t ext4 "$sys" /newroot || fail "mount system disk"
mkdir -p "/newroot/var/lib/sonocode/runtime/$runtime_name" /newroot/srv/sonocode
mount -t ext4 -o ro "$rt" "/newroot/var/lib/sonocode/runtime/$runtime_name" || fail "mount runtime disk"
ln -sfn "/var/lib/sonocode/runtime/$runtime_name" /newroot/var/lib/sonocode/runtime/rootfs
mount -t ext4 "$src" /newroot/srv/sonocode || fail "mount project disk"
if [ "$(arg docker)" = 1 ]; then
  dkr=$(disk dkr) || fail "no docker disk"
  mkdir -p /newroot/var/lib/docker
  mount -t ext4 "$dkr" /newroot/var/lib/docker || fail "mount docker disk"
fi

umount /sys
umount /proc
mount --move /dev /newroot/dev
exec switch_root /newroot /srv/sonocode/scripts/vm/guest-init.sh
