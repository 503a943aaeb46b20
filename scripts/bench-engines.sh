#!/usr/bin/env bash
# Sandboxes on a second Docker engine reached over TCP with TLS, against the local socket, on
# this machine: exec round trips (examples/bench_sandbox.rs run once per engine) and `srl eval`
# throughput over the shipped tasks' gold patches with the local engine, the TLS engine alone
# and both together. Starts its own TLS engine (openssl certificates, data on a tmpfs, loopback
# port) and removes it at the end. Needs root, dockerd and the local engine with the task images
# (`srl env build tasks`); the TLS engine is streamed the images it needs by the first eval.
# Usage: scripts/bench-engines.sh [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
repeats="${1:-3}"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
cargo build --release --quiet --example bench_sandbox
cargo build --release --quiet
srl="$PWD/target/release/srl"
bench="$PWD/target/release/examples/bench_sandbox"

dir=$(mktemp -d /tmp/srl-bench-e2.XXXXXX)
mount -t tmpfs -o size=8g tmpfs "$dir"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() {
    if [ -f "$dir/dockerd.pid" ]; then
        kill "$(cat "$dir/dockerd.pid")" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$(cat "$dir/dockerd.pid")" 2>/dev/null || break; sleep 0.1; done
    fi
    umount -R -l "$dir" 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT

# A CA, a server certificate for 127.0.0.1, a client certificate (the docker CLI's layout).
certs="$dir/certs"
mkdir -p "$certs"
(
    cd "$certs"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca-key.pem -out ca.pem -days 1 -subj /CN=srl-bench-ca 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout server-key.pem -out server.csr -subj /CN=127.0.0.1 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out server-cert.pem -days 1 -extfile server.ext 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout key.pem -out client.csr -subj /CN=srl-bench-client 2>/dev/null
    printf 'extendedKeyUsage=clientAuth\n' >client.ext
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out cert.pem -days 1 -extfile client.ext 2>/dev/null
)
echo '{}' >"$dir/daemon.json"
dockerd --config-file "$dir/daemon.json" --data-root "$dir/data" --exec-root "$dir/exec" \
    --pidfile "$dir/dockerd.pid.lock" -H "unix://$dir/docker.sock" -H "tcp://127.0.0.1:$port" \
    --tlsverify --tlscacert "$certs/ca.pem" --tlscert "$certs/server-cert.pem" --tlskey "$certs/server-key.pem" \
    --storage-driver overlay2 --bridge=none --iptables=false --ip6tables=false >"$dir/dockerd.log" 2>&1 &
echo $! >"$dir/dockerd.pid"
for _ in $(seq 300); do docker -H "unix://$dir/docker.sock" info >/dev/null 2>&1 && break; sleep 0.1; done
docker -H "unix://$dir/docker.sock" info >/dev/null || { tail -20 "$dir/dockerd.log"; exit 1; }
tls_host="tcp://127.0.0.1:$port"
echo "TLS engine: $tls_host ($(docker -H "unix://$dir/docker.sock" info --format '{{.Driver}}'))"

# The base image goes over once through the Engine API, timed (what a run does for a missing image).
start=$(date +%s.%N)
docker save srl-sandbox/base:latest | docker -H "unix://$dir/docker.sock" load -q >/dev/null
echo "base image loaded into the TLS engine with docker save | load in $(echo "$(date +%s.%N) - $start" | bc) s"

echo "== exec round trips, local socket =="
env -u DOCKER_HOST "$bench" | grep -E "docker|true|editor|exec" || true
echo "== exec round trips, TLS engine =="
DOCKER_HOST="$tls_host" DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH="$certs" "$bench" | grep -E "docker|true|editor|exec" || true

work=$(mktemp -d)
"$srl" tasks export --tasks tasks -o "$work/instances.jsonl" >/dev/null
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
with open(f"{work}/instances.jsonl") as src, open(f"{work}/gold.jsonl", "w") as out:
    for line in src:
        i = json.loads(line)
        out.write(json.dumps({"instance_id": i["instance_id"], "model_name_or_path": "gold", "model_patch": i["patch"]}) + "\n")
PY
eval_run() { # name, run id, engine flags...
    local name=$1 run=$2
    shift 2
    (cd "$work" && DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH="$certs" "$srl" "$@" eval --instances instances.jsonl \
        --predictions gold.jsonl --run-id "$run" --repos "$OLDPWD/tasks" --sandbox docker --workers 2 --no-pull) |
        sed -E "s/^evaluated/$name: evaluated/"
}
# Warm-up: streams the task images to the TLS engine (timed by the run itself).
eval_run "warm-up (streams images to the TLS engine)" warm --docker-host "$tls_host"
for rep in $(seq "$repeats"); do
    eval_run "local socket" "local-$rep" --docker-host unix:///var/run/docker.sock
    eval_run "TLS engine" "tls-$rep" --docker-host "$tls_host"
    eval_run "both engines" "both-$rep" --docker-host unix:///var/run/docker.sock --docker-host "$tls_host"
done
rm -rf "$work"
