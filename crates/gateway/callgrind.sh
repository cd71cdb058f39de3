#!/usr/bin/env bash
# Instructions per request through the gateway example beside a plain pass-through proxy,
# in one run, counted by callgrind: (Ir(N2) - Ir(N1)) / (N2 - N1), collected only inside
# `run_measured` (examples/instructions.rs). Client, proxy and upstream share one process,
# so each figure is the whole round trip in user space; the ratio is what the guard, the
# policy table and the header rules cost on top of proxying.
#
#   crates/gateway/callgrind.sh
#   N1=200 N2=600 crates/gateway/callgrind.sh
set -euo pipefail

if ! command -v valgrind >/dev/null 2>&1; then
  echo "callgrind.sh: valgrind is not installed (e.g. apt-get install valgrind); nothing measured" >&2
  exit 1
fi

N1="${N1:-200}"
N2="${N2:-600}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
cd "$root"
cargo build --locked --release -p gateway --example instructions >&2
bin="$target/release/examples/instructions"
out="$target/bench-results/gateway-callgrind"
mkdir -p "$out"
# shellcheck source=../benches/callgrind_count.sh
. "$root/crates/benches/callgrind_count.sh"

upstream="$(per_request_of callgrind.sh "$bin" upstream "$N1" "$N2" "$out")"
plain="$(per_request_of callgrind.sh "$bin" pass_through "$N1" "$N2" "$out")"
gateway="$(per_request_of callgrind.sh "$bin" gateway "$N1" "$N2" "$out")"
printf '%-14s %12s\n' scenario 'Ir/request'
printf '%-14s %12d\n' upstream "$upstream" pass_through "$plain" gateway "$gateway"
awk -v p="$plain" -v g="$gateway" -v u="$upstream" 'BEGIN {
  printf "gateway / pass-through: %.3f\n", g / p
  printf "added by guard, policy and headers: %d instructions (%d for proxying alone)\n", g - p, p - u
}'
