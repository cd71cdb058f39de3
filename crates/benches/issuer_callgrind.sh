#!/usr/bin/env bash
# Instructions per token request of every scenario of the `issuer_instructions` bin, counted
# by callgrind as `callgrind.sh` does: (Ir(N2) - Ir(N1)) / (N2 - N1), collected only inside
# `run_measured` (setup excluded).
#
#   crates/benches/issuer_callgrind.sh                        # every scenario
#   crates/benches/issuer_callgrind.sh grant_es256 sign_es256 # some of them
#   N1=50 N2=150 crates/benches/issuer_callgrind.sh           # quicker
#   ANNOTATE=1 crates/benches/issuer_callgrind.sh grant_es256 # also the top functions
#   OUT=/tmp/cg BIN=/tmp/baseline crates/benches/issuer_callgrind.sh # keep the profiles; a kept binary
#
# The table puts each request beside its floor: "- sign" is what minting or a grant adds to
# the bare signature of the same algorithm, "- grant" what the HTTP endpoint adds to
# `Issuer::grant`, "- round trip" what a refresh rotation adds to the store's own round trip
# (client side: the server's work is not counted). postgres and redis need TEST_POSTGRES_URL
# and TEST_REDIS_URL.
set -euo pipefail

if ! command -v valgrind >/dev/null 2>&1; then
  echo "issuer_callgrind.sh: valgrind is not installed (e.g. apt-get install valgrind); nothing measured" >&2
  exit 1
fi

N1="${N1:-100}"
N2="${N2:-300}"
JOBS="${JOBS:-2}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
cd "$root"
# BIN: a binary built before (a baseline kept aside), instead of building this tree's.
if [ -n "${BIN:-}" ]; then
  bin="$BIN"
else
  cargo build --release -j "$JOBS" -p benches --features issuer --bin issuer_instructions >&2
  bin="$target/release/issuer_instructions"
fi

if [ "$#" -gt 0 ]; then
  scenarios="$*"
else
  scenarios=""
  for alg in es256 rs256 eddsa; do
    scenarios="$scenarios sign_$alg mint_$alg grant_$alg endpoint_$alg"
  done
  for store in memory sqlite postgres redis; do
    scenarios="$scenarios roundtrip_$store refresh_$store"
  done
fi

out="${OUT:-$(mktemp -d)}"
[ -n "${OUT:-}" ] || trap 'rm -rf "$out"' EXIT
mkdir -p "$out"

# The counting itself, shared with the other instruction-count script.
# shellcheck source=crates/benches/callgrind_count.sh
. "$(dirname "$0")/callgrind_count.sh"

declare -A per_request
for scenario in $scenarios; do
  per_request[$scenario]="$(per_request_of issuer_callgrind.sh "$bin" "$scenario" "$N1" "$N2" "$out")"
  echo "$scenario: ${per_request[$scenario]}" >&2
  if [ -n "${ANNOTATE:-}" ]; then
    callgrind_annotate --inclusive=yes "$out/$scenario.$N2.callgrind" 2>/dev/null | head -60 >&2
  fi
done

# `value - baseline` as a number, or "-" when the baseline was not measured.
minus() {
  local value="$1" baseline="${per_request[$2]:-}"
  if [ -n "$baseline" ]; then echo $(( value - baseline )); else echo "-"; fi
}

echo
echo "| scenario | instructions / request | - sign | - grant | - round trip |"
echo "|---|---:|---:|---:|---:|"
for scenario in $scenarios; do
  value="${per_request[$scenario]}"
  over_sign="-" over_grant="-" over_round_trip="-"
  case "$scenario" in
    mint_* | grant_*) over_sign="$(minus "$value" "sign_${scenario#*_}")" ;;
    endpoint_*) over_sign="$(minus "$value" "sign_${scenario#*_}")"; over_grant="$(minus "$value" "grant_${scenario#*_}")" ;;
    refresh_*) over_round_trip="$(minus "$value" "roundtrip_${scenario#*_}")" ;;
  esac
  echo "| $scenario | $value | $over_sign | $over_grant | $over_round_trip |"
done
