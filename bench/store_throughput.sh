#!/usr/bin/env bash
# Store throughput: an artifact of MIB MiB stored in the local store, in a store on object
# storage (`--store s3://…`: the local put, then the upload), and uploaded alone with the same
# client; then read back from the object storage store into an empty local folder (a cache
# hit on another machine) against a plain download. The object storage is a moto server on
# the loopback interface, from the test virtualenv ($FLOWC_TEST_VENV, else target/test-venv).
# Usage: bench/store_throughput.sh [MIB] [ROUNDS]   (defaults 64 and 5)
set -euo pipefail
cd "$(dirname "$0")/.."
MIB="${1:-64}"
ROUNDS="${2:-5}"
VENV="${FLOWC_TEST_VENV:-$PWD/target/test-venv}"
PORT="$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

cargo build --release -q -p flowc-runtime --example store_throughput

"$VENV/bin/python" -m moto.server -H 127.0.0.1 -p "$PORT" >/dev/null 2>&1 &
MOTO=$!
trap 'kill "$MOTO" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PORT/moto-api/" >/dev/null && break
  sleep 0.1
done
curl -sf -X PUT "http://127.0.0.1:$PORT/bench" >/dev/null

export AWS_ENDPOINT_URL="http://127.0.0.1:$PORT" AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
target/release/examples/store_throughput s3://bench/store "$MIB" "$ROUNDS"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
