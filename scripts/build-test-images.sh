#!/usr/bin/env bash
# Build the local images the docker runtime's tests and benchmarks use (no registry here):
#   nbcluster/busybox:test  busybox-static with its applets (sh, httpd, wget, sleep, nc, ...)
#   nbcluster/pause:test    a pause image: busybox sleeping forever, PID 1 reaps and exits on TERM
# Usage: bash scripts/build-test-images.sh [--force]   (skips images that exist)
set -euo pipefail

DOCKER=/usr/bin/docker
[ -x "$DOCKER" ] || DOCKER=$(command -v docker)
BUSYBOX=${BUSYBOX:-/bin/busybox}
FORCE=${1:-}

if [ ! -x "$BUSYBOX" ]; then
  echo "build-test-images: $BUSYBOX missing (apt-get install busybox-static)" >&2
  exit 1
fi
if ! "$BUSYBOX" --list >/dev/null 2>&1 || ldd "$BUSYBOX" >/dev/null 2>&1; then
  echo "build-test-images: $BUSYBOX is not a static busybox (apt-get install busybox-static)" >&2
  exit 1
fi

have() { [ "$FORCE" != --force ] && "$DOCKER" image inspect "$1" >/dev/null 2>&1; }

rootfs() {  # rootfs DIR: busybox + applet symlinks + the files a container expects
  local root=$1
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,www,root,proc,sys,dev,var/run}
  chmod 1777 "$root/tmp"
  cp "$BUSYBOX" "$root/bin/busybox"
  for applet in $("$BUSYBOX" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  echo '<html><body>nbcluster busybox</body></html>' >"$root/www/index.html"
}

build() {  # build NAME CMD-AS-JSON
  local name=$1 cmd=$2
  if have "$name"; then
    echo "build-test-images: $name present"
    return
  fi
  local tmp
  tmp=$(mktemp -d)
  rootfs "$tmp/root"
  local changes=(--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin')
  changes+=(--change "CMD $cmd")
  tar -C "$tmp/root" -c . | "$DOCKER" import "${changes[@]}" - "$name" >/dev/null
  rm -rf "$tmp"
  echo "build-test-images: built $name"
}

# The app image: a shell by default, like busybox's own image.
build nbcluster/busybox:test '["sh"]'
# The pause image: PID 1 is a shell that sleeps forever and exits at once on SIGTERM
# (a shell as PID 1 ignores TERM unless it traps it; `wait` lets the trap run).
build nbcluster/pause:test '["sh","-c","trap '"'"'exit 0'"'"' TERM INT; while :; do sleep 3600 & wait $!; done"]'
