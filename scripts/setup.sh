#!/usr/bin/env bash
# Sets capsa up on a fresh Debian 12 machine (as root): system packages, npm dependencies,
# the native build, the TypeScript build; then runs a demo container from a busybox bundle.
set -euo pipefail
cd "$(dirname "$0")/.."

# Build: g++, make, python3 (node-gyp), libseccomp-dev. Run and test: busybox-static (test
# rootfs), runc (differential tests), containerd and podman with conmon (engine tests),
# hyperfine (bench), jq; qemu and xz for the cgroup v2 VM tests, apparmor (apparmor_parser) and
# checkpolicy (compiles the SELinux test policy) for the AppArmor and SELinux tests that run in
# that VM.
packages=(build-essential python3 pkg-config libseccomp-dev busybox-static runc containerd podman conmon
  hyperfine jq iproute2 qemu-system-x86 xz-utils strace apparmor checkpolicy)
missing=()
for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "capsa setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --ignore-scripts: npm would run node-gyp rebuild before the protocol header it needs is
# generated; the build below does the native build in order.
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
npm run build --silent

# The demo: a busybox bundle made from scratch, run in the foreground.
demo=$(mktemp -d /tmp/capsa-demo-XXXXXX)
trap 'rm -rf "$demo"' EXIT
mkdir -p "$demo/rootfs/bin" "$demo/rootfs/proc" "$demo/rootfs/dev" "$demo/rootfs/sys" "$demo/rootfs/tmp"
cp /bin/busybox "$demo/rootfs/bin/busybox"
for applet in $("$demo/rootfs/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln "$demo/rootfs/bin/busybox" "$demo/rootfs/bin/$applet"
done
bin/capsa spec --bundle "$demo"
node -e '
  const f = process.argv[1], c = JSON.parse(require("fs").readFileSync(f));
  c.process.terminal = false;
  c.process.args = ["sh", "-c", "echo \"hello from $(hostname), pid $$, as $(id -un 2>/dev/null || id -u)\"; uname -sr"];
  require("fs").writeFileSync(f, JSON.stringify(c, null, 2));
' "$demo/config.json"
echo "capsa setup: running a demo container"
bin/capsa --root /run/capsa-demo run --bundle "$demo" "capsa-demo-$$"
rmdir /run/capsa-demo 2>/dev/null || true
echo "capsa setup: done. bin/capsa is ready; run the tests with: npm test"
