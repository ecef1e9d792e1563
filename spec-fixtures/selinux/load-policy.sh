#!/bin/sh
# Loads capsa-test.conf into a kernel that runs SELinux with no policy yet: the throw-away v2
# VM booted with security=selinux (test/cgroups-v2vm.test.ts). Never on a real host: a loaded
# policy stays until reboot. Usage: load-policy.sh permissive|enforcing
set -eu
cd "$(dirname "$0")"
[ -e /sys/fs/selinux/load ] || mount -t selinuxfs selinuxfs /sys/fs/selinux
if [ "$(tr -d '\0' </proc/self/attr/current)" != kernel ]; then
  echo "load-policy.sh: a policy is loaded already; not replacing it" >&2
  exit 1
fi
pol=$(mktemp /tmp/capsa-selinux-XXXXXX)
checkpolicy -M -U allow -c 33 -o "$pol" capsa-test.conf >/dev/null
cat "$pol" >/sys/fs/selinux/load
rm -f "$pol"
case ${1:-permissive} in
  enforcing) echo 1 >/sys/fs/selinux/enforce ;;
  permissive) echo 0 >/sys/fs/selinux/enforce ;;
  *) echo "load-policy.sh: permissive or enforcing" >&2; exit 2 ;;
esac
