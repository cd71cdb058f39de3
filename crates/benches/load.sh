#!/usr/bin/env bash
# End-to-end throughput: crates/peers' `load_server` (hyper 1, one inner handler) driven by
# wrk, in interleaved rounds alternating the modes, unpinned and pinned with taskset
# (server on core 0, wrk on core 1); then the warm guard and the bare handler on 1 and on 2
# worker threads. Prints requests/s, p50 and p99 per mode (medians over the rounds), the
# ratios warm/none (target >= 0.97) and cold/jwt-authorizer (target >= 1.2), and writes
# every round to <target>/bench-results/load.csv and the summary to load.json (chart.py).
#
#   crates/benches/load.sh
#   ROUNDS=3 DURATION=3 crates/benches/load.sh     # quicker
#   ALG=es256 MODES="none warm cold" crates/benches/load.sh
#
# Needs wrk (Debian: apt-get install wrk) and taskset (util-linux). Modes: none (the
# handler alone), warm (guard, verified-token cache on), cold (guard, cache off),
# jwt-authorizer, aliri. Each round starts a fresh server, so no mode inherits another's
# state; the order of the modes rotates from round to round.
set -euo pipefail

ROUNDS="${ROUNDS:-5}"
DURATION="${DURATION:-5}"
CONNECTIONS="${CONNECTIONS:-32}"
ALG="${ALG:-rs256}"
MODES="${MODES:-none warm cold jwt-authorizer aliri}"
SCALING_ROUNDS="${SCALING_ROUNDS:-3}"
JOBS="${JOBS:-2}"

# shellcheck source=crates/benches/load_server.sh
. "$(dirname "$0")/load_server.sh"
# wrk: apt-get install wrk.
require_tools load.sh wrk taskset python3
cores="$(nproc)"
prepare_load_server

results="$target/bench-results"
mkdir -p "$results"
csv="$results/load.csv"
echo "placement,mode,workers,round,requests_per_second,p50_us,p99_us" >"$csv"

# wrk's latency ("812.00us", "1.20ms", "2.01s") in microseconds.
to_us() {
  awk -v value="$1" 'BEGIN {
    if (value ~ /us$/) { sub(/us$/, "", value); print value + 0 }
    else if (value ~ /ms$/) { sub(/ms$/, "", value); print value * 1000 }
    else if (value ~ /s$/) { sub(/s$/, "", value); print value * 1000000 }
    else { print "nan" } }'
}

# One round: a fresh server in `mode` with `workers` threads, wrk against it for DURATION
# seconds, a CSV row. `placement` is "unpinned" or "pinned".
round() {
  local placement="$1" mode="$2" workers="$3" number="$4"
  local server_cmd=("$server" "$mode" --alg "$ALG" --workers "$workers")
  local wrk_cmd=(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency)
  if [ "$placement" = pinned ]; then
    server_cmd=(taskset -c 0 "${server_cmd[@]}")
    wrk_cmd=(taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency)
  fi
  # The previous round's line must not be read as this one's.
  rm -f "$work/server.out"
  "${server_cmd[@]}" >"$work/server.out" 2>"$work/server.err" &
  server_pid=$!
  await_announce load.sh "$mode" "$server_pid" "$work/server.out" "$work/server.err"
  local url token
  read -r url token <"$work/server.out"
  if ! "${wrk_cmd[@]}" -H "Authorization: Bearer $token" "$url" >"$work/wrk.out" 2>&1; then
    echo "load.sh: wrk failed against $mode:" >&2
    cat "$work/wrk.out" "$work/server.err" >&2
    exit 1
  fi
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
  if grep -q "Non-2xx or 3xx responses" "$work/wrk.out"; then
    echo "load.sh: $mode answered something other than 200:" >&2
    cat "$work/wrk.out" >&2
    exit 1
  fi
  local rps p50 p99
  rps="$(awk '/^Requests\/sec:/ { print $2 }' "$work/wrk.out")"
  p50="$(to_us "$(awk '$1 == "50%" { print $2 }' "$work/wrk.out")")"
  p99="$(to_us "$(awk '$1 == "99%" { print $2 }' "$work/wrk.out")")"
  if [ -z "$rps" ]; then
    echo "load.sh: no result from wrk for $mode:" >&2
    cat "$work/wrk.out" >&2
    exit 1
  fi
  echo "$placement,$mode,$workers,$number,$rps,$p50,$p99" >>"$csv"
  printf '%-8s %-15s workers=%s round %s: %10.0f req/s  p50 %8.0f us  p99 %8.0f us\n' \
    "$placement" "$mode" "$workers" "$number" "$rps" "$p50" "$p99" >&2
}

# `list` rotated left by `by` places.
rotate() {
  local by="$1"; shift
  local items=("$@") count="$#" i
  for ((i = 0; i < count; i++)); do printf '%s ' "${items[$(((i + by) % count))]}"; done
}

placements="unpinned"
if [ "$cores" -ge 2 ]; then
  placements="unpinned pinned"
else
  echo "load.sh: one core only, the pinned rounds are skipped" >&2
fi
for placement in $placements; do
  # Unpinned: the server's 2 workers and wrk share the machine; pinned: 1 worker on core 0.
  workers=2
  [ "$placement" = pinned ] && workers=1
  for ((number = 1; number <= ROUNDS; number++)); do
    # shellcheck disable=SC2086
    for mode in $(rotate $((number - 1)) $MODES); do
      round "$placement" "$mode" "$workers" "$number"
    done
  done
done
# Scaling: the same modes on 1 and on 2 worker threads (unpinned, interleaved). On a
# 2-core machine wrk takes a core's worth too, so the question is whether the warm guard
# scales as the bare handler does, not whether either doubles.
for ((number = 1; number <= SCALING_ROUNDS; number++)); do
  for workers in 1 2; do
    for mode in none warm; do
      round scaling "$mode" "$workers" "$number"
    done
  done
done

python3 - "$csv" "$results/load.json" "$ALG" "$DURATION" "$CONNECTIONS" "$cores" <<'PY'
import csv, json, statistics, sys

path, out, alg, duration, connections, cores = sys.argv[1:]
rows = list(csv.DictReader(open(path)))
groups = {}
for row in rows:
    key = (row["placement"], row["mode"], int(row["workers"]))
    groups.setdefault(key, []).append(row)

summary = []
for (placement, mode, workers), group in groups.items():
    median = lambda field: statistics.median(float(row[field]) for row in group)
    summary.append({"placement": placement, "mode": mode, "workers": workers, "rounds": len(group),
                    "requests_per_second": median("requests_per_second"),
                    "p50_us": median("p50_us"), "p99_us": median("p99_us")})

def rps(placement, mode, workers=None):
    for entry in summary:
        if entry["placement"] == placement and entry["mode"] == mode and (workers is None or entry["workers"] == workers):
            return entry["requests_per_second"]
    return None

def ratio(a, b):
    return a / b if a is not None and b else None

print(f"\n{alg.upper()} token, wrk -c{connections}, {duration} s rounds, {cores} cores; medians over the rounds\n")
print("| placement | mode | workers | rounds | requests/s | p50 | p99 |")
print("|---|---|---:|---:|---:|---:|---:|")
for entry in summary:
    print(f"| {entry['placement']} | {entry['mode']} | {entry['workers']} | {entry['rounds']} | "
          f"{entry['requests_per_second']:,.0f} | {entry['p50_us']:,.0f} µs | {entry['p99_us']:,.0f} µs |")

ratios = {}
for placement in ("unpinned", "pinned"):
    ratios[placement] = {
        "warm/none": ratio(rps(placement, "warm"), rps(placement, "none")),
        "cold/jwt-authorizer": ratio(rps(placement, "cold"), rps(placement, "jwt-authorizer")),
        "cold/aliri": ratio(rps(placement, "cold"), rps(placement, "aliri")),
    }
ratios["scaling"] = {
    "warm 2 workers/1": ratio(rps("scaling", "warm", 2), rps("scaling", "warm", 1)),
    "none 2 workers/1": ratio(rps("scaling", "none", 2), rps("scaling", "none", 1)),
    "warm/none, 1 worker": ratio(rps("scaling", "warm", 1), rps("scaling", "none", 1)),
    "warm/none, 2 workers": ratio(rps("scaling", "warm", 2), rps("scaling", "none", 2)),
}
targets = {"warm/none": 0.97, "cold/jwt-authorizer": 1.2}
print("\n| ratio of requests/s | unpinned | pinned | target |")
print("|---|---:|---:|---:|")
for name in ("warm/none", "cold/jwt-authorizer", "cold/aliri"):
    cells = [f"{ratios[p][name]:.3f}" if ratios[p][name] is not None else "-" for p in ("unpinned", "pinned")]
    target = f"≥ {targets[name]}" if name in targets else ""
    print(f"| {name} | {cells[0]} | {cells[1]} | {target} |")
print("\n| scaling (unpinned) | ratio |")
print("|---|---:|")
for name, value in ratios["scaling"].items():
    print(f"| {name} | {value:.3f} |" if value is not None else f"| {name} | - |")

json.dump({"alg": alg, "duration_s": int(duration), "connections": int(connections), "cores": int(cores),
           "summary": summary, "ratios": ratios}, open(out, "w"), indent=2)
print(f"\nwritten to {out} (every round in {path})")
PY
