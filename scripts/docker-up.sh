#!/usr/bin/env bash
# Makes sure a Docker engine answers: installs Debian's docker.io when dockerd is missing and
# starts dockerd (no bridge, no iptables changes: sandboxes never have a network) when no daemon
# answers. Idempotent, and never touches a daemon it did not start.
# Usage: scripts/docker-up.sh        (prints the daemon's version when it is up)
set -euo pipefail
STATE_DIR=${SRL_DOCKER_STATE:-/tmp/srl-docker}
mkdir -p "$STATE_DIR"

if docker info >/dev/null 2>&1; then
    echo "docker: daemon already answering ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
    exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
        echo "error: dockerd is not installed and installing it needs root (apt-get install docker.io)" >&2
        exit 1
    fi
    echo "docker: installing docker.io from the Debian archive"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends docker.io >/dev/null
fi

echo "docker: starting dockerd (log: $STATE_DIR/dockerd.log)"
nohup dockerd --bridge=none --iptables=false --ip6tables=false >"$STATE_DIR/dockerd.log" 2>&1 &
echo $! >"$STATE_DIR/dockerd.pid"
for _ in $(seq 300); do
    if docker info >/dev/null 2>&1; then
        echo "docker: daemon up ($(docker version --format '{{.Server.Version}}'))"
        exit 0
    fi
    sleep 0.1
done
echo "error: dockerd did not come up; last log lines:" >&2
tail -20 "$STATE_DIR/dockerd.log" >&2
exit 1
