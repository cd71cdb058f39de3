#!/usr/bin/env bash
# client_credentials token requests end to end: the release `issuer_server` (the token
# endpoint over plain hyper) driven by wrk with a Lua-scripted POST /oauth/token
# (`grant_type=client_credentials&scope=a`, HTTP Basic client authentication). Prints
# requests per second, p50 and p99 per round, and the best round.
#
#   crates/benches/issuer_load.sh
#   ROUNDS=5 DURATION=10s CONNECTIONS=64 crates/benches/issuer_load.sh
#   ISSUER_STORE=sqlite ISSUER_ALG=rs256 crates/benches/issuer_load.sh
#   TASKSET_SERVER=0 TASKSET_WRK=1 WORKERS=1 crates/benches/issuer_load.sh   # pinned
#   SERVER=/tmp/issuer_server.before crates/benches/issuer_load.sh            # a kept baseline
#
# Needs wrk (Debian's package: apt-get install wrk). ISSUER_STORE (memory, sqlite, postgres,
# redis) and ISSUER_ALG (es256, rs256, eddsa) are passed to the server; WORKERS is its
# runtime's worker threads. With TASKSET_SERVER / TASKSET_WRK (CPU lists) the server and
# wrk are pinned with taskset.
set -euo pipefail

if ! command -v wrk >/dev/null 2>&1; then
  echo "issuer_load.sh: wrk is not installed (e.g. apt-get install wrk); nothing measured" >&2
  exit 1
fi

ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-5s}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
JOBS="${JOBS:-2}"
BIND="${BIND:-127.0.0.1:8099}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
cd "$root"
# SERVER: a server binary built before (a baseline kept aside), instead of this tree's.
if [ -n "${SERVER:-}" ]; then
  server="$SERVER"
else
  cargo build --release -j "$JOBS" -p benches --features issuer --bin issuer_server >&2
  server="$target/release/issuer_server"
fi

# Runs a command pinned to the CPU list `$1` (if any), replacing the calling (sub)shell, so
# that `$!` of `pin … &` is the command's own process id.
pin() {
  local cpus="$1"
  shift
  if [ -n "$cpus" ]; then exec taskset -c "$cpus" "$@"; else exec "$@"; fi
}

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

BIND="$BIND" pin "${TASKSET_SERVER:-}" "$server" >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 1 200); do
  [ -s "$work/server.out" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "issuer_load.sh: the server did not start:" >&2
    cat "$work/server.err" >&2
    exit 1
  fi
  sleep 0.1
done
read -r client_id secret address <"$work/server.out"
basic="$(printf '%s:%s' "$client_id" "$secret" | base64 -w0)"

cat >"$work/token.lua" <<EOF
wrk.method = "POST"
wrk.path = "/oauth/token"
wrk.body = "grant_type=client_credentials&scope=a"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $basic"

-- errors.status counts every answer that is not 2xx or 3xx.
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.0f %.0f %.0f %d %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99),
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.requests))
end
EOF

# One request first: a refused token request means a broken setup, not a slow one.
status="$(curl -s -o /dev/null -w '%{http_code}' -u "$client_id:$secret" -d 'grant_type=client_credentials&scope=a' "http://$address/oauth/token" || true)"
if [ "$status" != "200" ]; then
  echo "issuer_load.sh: the token endpoint answered $status, not 200" >&2
  exit 1
fi

echo "store=${ISSUER_STORE:-memory} alg=${ISSUER_ALG:-es256} connections=$CONNECTIONS threads=$THREADS duration=$DURATION"
echo "| round | requests/s | p50 | p99 | errors |"
echo "|---:|---:|---:|---:|---:|"
best=0
best_line=""
for round in $(seq 1 "$ROUNDS"); do
  line="$(pin "${TASKSET_WRK:-}" wrk -t "$THREADS" -c "$CONNECTIONS" -d "$DURATION" -s "$work/token.lua" "http://$address" | awk '/^RESULT/ { print $2, $3, $4, $5 }')"
  read -r rps p50 p99 errors <<<"$line"
  if [ "$errors" != "0" ]; then
    echo "issuer_load.sh: round $round had $errors errors (non-200 answers or socket errors)" >&2
    exit 1
  fi
  echo "| $round | $rps | ${p50} µs | ${p99} µs | $errors |"
  if [ "$rps" -gt "$best" ]; then best="$rps"; best_line="$rps requests/s, p50 ${p50} µs, p99 ${p99} µs"; fi
done
echo
echo "best round: $best_line"
