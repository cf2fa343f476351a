#!/usr/bin/env bash
# Install and start what the Docker and browser tests need on this machine:
# Debian's docker.io + busybox-static (then dockerd and the local test images) and
# Debian's chromium (Playwright drives it; no browser download is possible here).
# Root installs what is missing; without root it says what is missing and carries on
# (those tests then skip — except with CI=true, where they fail).
# Usage: bash scripts/setup-system.sh
set -uo pipefail
cd "$(dirname "$0")/.."
IN_CI=false
case "${CI:-}" in 1|true|TRUE|yes) IN_CI=true ;; esac

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
[ -x /bin/busybox ] || need+=(busybox-static)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup-system: installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "setup-system: missing ${need[*]} (run as root to install them)" >&2
  fi
fi

status=0
bash scripts/start-docker.sh || status=$?
if [ $status = 0 ]; then
  bash scripts/build-test-images.sh || status=$?
fi
if [ $status != 0 ]; then
  echo "setup-system: Docker is not available: the docker tests will skip (fail under CI)" >&2
  $IN_CI && exit $status
fi
exit 0
