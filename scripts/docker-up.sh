#!/usr/bin/env bash
# Makes sure a Docker engine answers: installs Debian's docker.io when dockerd is missing and
# starts dockerd (no bridge, no iptables changes: sandboxes never have a network) when no daemon
# answers. Idempotent, and never touches a daemon it did not start.
#
# Disk quotas: overlay2 on ext4 cannot limit a container's disk use, so when run as root on a
# kernel with btrfs, the engine it starts keeps its data on a loop-mounted btrfs image with
# quotas enabled (Docker's btrfs storage driver then honours `--storage-opt size`, which the
# sandboxes set). SRL_DOCKER_QUOTA=0 starts a plain engine; SRL_DOCKER_QUOTA=1 makes a missing
# btrfs an error. The image file is sparse: it takes on disk what the engine stores.
# Usage: scripts/docker-up.sh        (prints the daemon's version and storage driver when it is up)
# Env: SRL_DOCKER_STATE (logs, pid; /tmp/srl-docker), SRL_DOCKER_DATA (the btrfs image and its
#      mount; /var/lib/srl-docker), SRL_DOCKER_DISK (image size; 64G), DOCKER_HOST (unix:// only).
set -euo pipefail
STATE_DIR=${SRL_DOCKER_STATE:-/tmp/srl-docker}
DATA_DIR=${SRL_DOCKER_DATA:-/var/lib/srl-docker}
QUOTA=${SRL_DOCKER_QUOTA:-auto}
mkdir -p "$STATE_DIR"
SOCKET=${DOCKER_HOST:-unix:///var/run/docker.sock}

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

# Mounts a btrfs file system with quotas for the engine's data, on a sparse loop image.
btrfs_data_root() {
    [ "$(id -u)" = 0 ] || { echo "docker: not root, no loop-mounted btrfs" >&2; return 1; }
    grep -qw btrfs /proc/filesystems || modprobe btrfs 2>/dev/null || grep -qw btrfs /proc/filesystems || {
        echo "docker: this kernel has no btrfs" >&2
        return 1
    }
    if ! command -v mkfs.btrfs >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        (apt-get update -qq && apt-get install -y -qq --no-install-recommends btrfs-progs >/dev/null) ||
            { echo "docker: cannot install btrfs-progs" >&2; return 1; }
    fi
    mkdir -p "$DATA_DIR/root"
    if ! mountpoint -q "$DATA_DIR/root"; then
        if [ ! -f "$DATA_DIR/data.btrfs" ]; then
            truncate -s "${SRL_DOCKER_DISK:-64G}" "$DATA_DIR/data.btrfs"
            mkfs.btrfs -q "$DATA_DIR/data.btrfs" || { rm -f "$DATA_DIR/data.btrfs"; return 1; }
        fi
        mount -o loop "$DATA_DIR/data.btrfs" "$DATA_DIR/root" || { echo "docker: cannot loop-mount btrfs" >&2; return 1; }
    fi
    btrfs quota enable "$DATA_DIR/root"
}

ARGS=(--bridge=none --iptables=false --ip6tables=false)
if [ "$SOCKET" != unix:///var/run/docker.sock ]; then
    # A second engine beside the default one (tests of the quota setup): its own socket and state.
    ARGS+=(-H "$SOCKET" --exec-root "$STATE_DIR/exec" --pidfile "$STATE_DIR/dockerd.pid.lock")
fi
if [ "$QUOTA" != 0 ]; then
    if btrfs_data_root; then
        ARGS+=(--data-root "$DATA_DIR/root" --storage-driver btrfs)
    elif [ "$QUOTA" = 1 ]; then
        echo "error: SRL_DOCKER_QUOTA=1 but no btrfs data root could be made" >&2
        exit 1
    else
        echo "docker: warning: no disk quotas (a sandbox can fill this machine's disk)" >&2
    fi
fi
echo "docker: starting dockerd (log: $STATE_DIR/dockerd.log)"
nohup dockerd "${ARGS[@]}" >"$STATE_DIR/dockerd.log" 2>&1 &
echo $! >"$STATE_DIR/dockerd.pid"
for _ in $(seq 300); do
    if docker info >/dev/null 2>&1; then
        echo "docker: daemon up ($(docker version --format '{{.Server.Version}}'), storage $(docker info --format '{{.Driver}}'))"
        exit 0
    fi
    sleep 0.1
done
echo "error: dockerd did not come up; last log lines:" >&2
tail -20 "$STATE_DIR/dockerd.log" >&2
exit 1
