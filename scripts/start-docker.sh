#!/usr/bin/env bash
# Make a Docker daemon answer on this machine (for the docker runtime and its tests).
# Installs Debian's docker.io and busybox-static when missing, starts dockerd in the
# background when no daemon answers (root only), and waits until `docker info` works.
# Usage: bash scripts/start-docker.sh        (idempotent; exits non-zero on failure)
set -euo pipefail

DOCKER=/usr/bin/docker
[ -x "$DOCKER" ] || DOCKER=$(command -v docker || echo /usr/bin/docker)
LOG=${DOCKERD_LOG:-/tmp/dockerd.log}

answers() { "$DOCKER" info >/dev/null 2>&1; }

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
# busybox-static (not Debian's dynamic busybox): the test images copy /bin/busybox as is.
if command -v dpkg >/dev/null 2>&1; then
  dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
elif [ ! -x /bin/busybox ]; then
  need+=(busybox-static)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "start-docker: missing ${need[*]} and not root: install them first" >&2
    exit 1
  fi
  echo "start-docker: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
  DOCKER=/usr/bin/docker
fi

if answers; then
  echo "start-docker: a daemon already answers"
  exit 0
fi

if [ -n "${DOCKER_HOST:-}" ] && [ "${DOCKER_HOST#unix://}" = "$DOCKER_HOST" ]; then
  echo "start-docker: DOCKER_HOST=$DOCKER_HOST does not answer (not starting a local daemon)" >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "start-docker: no daemon answers and only root can start dockerd" >&2
  exit 1
fi

if ! pgrep -x dockerd >/dev/null 2>&1; then
  echo "start-docker: starting dockerd (log: $LOG)"
  # containerd comes with docker.io; dockerd starts its own when none runs.
  # setsid: its own session, so the end of the shell (or job) that started it does not stop it.
  setsid nohup dockerd >"$LOG" 2>&1 </dev/null &
fi
for _ in $(seq 1 60); do
  if answers; then
    echo "start-docker: daemon ready ($("$DOCKER" version --format '{{.Server.Version}}' 2>/dev/null))"
    exit 0
  fi
  sleep 0.5
done
echo "start-docker: dockerd did not answer within 30 s; last log lines:" >&2
tail -n 20 "$LOG" >&2 || true
exit 1
