#!/usr/bin/env bash
# Instructions per request of every scenario of the `instructions` bin (tower-passport) and
# of the `peer_instructions` bin (crates/peers: jsonwebtoken, jwt-authorizer, aliri_tower),
# counted by callgrind: (Ir(N2) - Ir(N1)) / (N2 - N1), collected only inside
# `run_measured` (setup excluded). One table, and the same figures as JSON in
# <target>/bench-results/instructions.json for chart.py.
#
#   crates/benches/callgrind.sh                  # every scenario, ours and the peers'
#   crates/benches/callgrind.sh warm_rs256 inner # some of them (JSON: instructions-partial.json)
#   PEERS=0 crates/benches/callgrind.sh          # tower-passport's only (no peer crate built)
#   N1=100 N2=300 JOBS=1 crates/benches/callgrind.sh
#
# "- inner" is what the warm guard adds to the inner service; "- floor" what a cold
# verification (tower-passport's or a peer's, a layer's including its ~800-instruction
# inner service) adds to aws-lc-rs's bare signature check of the same algorithm.
set -euo pipefail

if ! command -v valgrind >/dev/null 2>&1; then
  echo "callgrind.sh: valgrind is not installed (e.g. apt-get install valgrind); nothing measured" >&2
  exit 1
fi

N1="${N1:-1000}"
N2="${N2:-3000}"
JOBS="${JOBS:-2}"
PEERS="${PEERS:-1}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
cd "$root"
# Two builds: built in one invocation with the peers, tower-passport would be compiled with
# the features the peers' dependencies turn on (cargo unifies them) and measured as no user
# builds it (about 40 instructions more on a warm hit, 50 on a cold verify).
cargo build --locked --release -j "$JOBS" -p benches --bin instructions >&2
if [ "$PEERS" = 1 ]; then
  cargo build --locked --release -j "$JOBS" -p peers --bin peer_instructions >&2
fi

# The peers' scenarios run in crates/peers' bin; everything else in ours.
bin_for() {
  case "$1" in
    jsonwebtoken_* | jwt_authorizer_* | aliri_* | guard_cold_* | axum_inner) echo "$target/release/peer_instructions" ;;
    *) echo "$target/release/instructions" ;;
  esac
}

if [ "$#" -gt 0 ]; then
  scenarios="$*"
else
  scenarios="inner"
  [ "$PEERS" = 1 ] && scenarios="$scenarios axum_inner"
  for alg in rs256 es256 hs256; do
    scenarios="$scenarios floor_$alg cold_$alg"
    [ "$PEERS" = 1 ] && scenarios="$scenarios guard_cold_$alg jsonwebtoken_$alg jwt_authorizer_$alg aliri_$alg"
    scenarios="$scenarios warm_$alg warm_scope_$alg warm_scope_routed_$alg"
  done
  # Behind a router: the request carries an extension already (axum's route_layer).
  scenarios="$scenarios inner_routed"
  scenarios="$scenarios grant_memory"
  # DPoP (RFC 9449): a warm bound-token request with a fresh proof, and the proof's bare
  # signature check, to compare with warm_hs256 proof signature aside. DPOP=0 skips them.
  # dpop_inner: the same requests (three headers, a fresh proof each) to the inner service.
  [ "${DPOP:-1}" = 1 ] && scenarios="$scenarios warm_dpop dpop_proof_floor dpop_inner"
  # SCALING=1: a warm hit among 1k and 100k cached tokens, and cold cost against token size
  # (warm_cached_1m fills a million-token cache: name it to run it, it takes a while).
  [ "${SCALING:-0}" = 1 ] &&
    scenarios="$scenarios warm_cached_1k warm_cached_100k floor_scopes_10 cold_scopes_10 floor_scopes_200 cold_scopes_200 floor_claims_4k cold_claims_4k"
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

# The counting itself, shared with the other instruction-count script.
# shellcheck source=crates/benches/callgrind_count.sh
. "$(dirname "$0")/callgrind_count.sh"

declare -A per_request
for scenario in $scenarios; do
  per_request[$scenario]="$(per_request_of callgrind.sh "$(bin_for "$scenario")" "$scenario" "$N1" "$N2" "$out")"
  echo "$scenario: ${per_request[$scenario]}" >&2
done

# `minus baseline` as a number, or "-" when the baseline was not measured.
minus() {
  local value="$1" baseline="${per_request[$2]:-}"
  if [ -n "$baseline" ]; then echo $(( value - baseline )); else echo "-"; fi
}

echo
echo "| scenario | instructions / request | - inner | - floor |"
echo "|---|---:|---:|---:|"
for scenario in $scenarios; do
  value="${per_request[$scenario]}"
  over_inner="-"
  over_floor="-"
  case "$scenario" in
    warm_*_routed_*) over_inner="$(minus "$value" inner_routed)" ;;
    warm_*) over_inner="$(minus "$value" inner)" ;;
  esac
  # The bound path, proof signature aside: its own floor is the proof's signature check.
  [ "$scenario" = warm_dpop ] && over_floor="$(minus "$value" dpop_proof_floor)"
  case "$scenario" in
    cold_scopes_* | cold_claims_*) over_floor="$(minus "$value" "floor_${scenario#cold_}")" ;;
    cold_* | guard_cold_* | jsonwebtoken_* | jwt_authorizer_* | aliri_*)
      over_floor="$(minus "$value" "floor_${scenario##*_}")" ;;
  esac
  echo "| $scenario | $value | $over_inner | $over_floor |"
done

# Issue 19's bound: the guard's own work on a DPoP request, proof signature aside, within
# twice its work on a warm bearer one.
if [ -n "${per_request[warm_dpop]:-}" ] && [ -n "${per_request[dpop_proof_floor]:-}" ]; then
  dpop_work=$(( per_request[warm_dpop] - per_request[dpop_proof_floor] - ${per_request[dpop_inner]:-${per_request[inner]:-0}} ))
  echo
  echo "DPoP warm path beyond its proof's signature and its request: $dpop_work"
  for alg in es256 hs256; do
    if [ -n "${per_request[warm_$alg]:-}" ] && [ -n "${per_request[inner]:-}" ]; then
      bearer_work=$(( per_request[warm_$alg] - per_request[inner] ))
      echo "warm_$alg beyond inner: $bearer_work (ratio $(awk "BEGIN { printf \"%.2f\", $dpop_work / $bearer_work }"))"
    fi
  done
fi

# The same figures for chart.py. A run of some scenarios only writes beside the full run's
# file, not over it: the chart is drawn from one run of every scenario.
results="$target/bench-results"
mkdir -p "$results"
json="$results/instructions.json"
[ "$#" -gt 0 ] && json="$results/instructions-partial.json"
{
  printf '{\n  "n1": %s,\n  "n2": %s,\n  "valgrind": "%s",\n  "per_request": {' "$N1" "$N2" "$(valgrind --version)"
  separator=""
  for scenario in $scenarios; do
    printf '%s\n    "%s": %s' "$separator" "$scenario" "${per_request[$scenario]}"
    separator=","
  done
  printf '\n  }\n}\n'
} >"$json"
echo
echo "written to $json"
