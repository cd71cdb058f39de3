#!/usr/bin/env bash
# The bounded soak (issue 21): builds the release `quickstart` and `soak` binaries once,
# then soaks the quickstart (the release binary as a child process, SQLite store) at 80 %
# of the capacity a 10-second closed-loop phase measured, for 300 seconds, and writes the
# report (stdout, and JSON). With MEMORY=1 it then runs the same app in the soak's own
# process under the counting allocator and checks the live heap's growth per request over
# the last third of the run. Exits non-zero on any unexpected status, anomaly, violated
# revocation proof or refresh race (and, with MEMORY=1, growth beyond MAX_GROWTH).
#
#   crates/benches/soak.sh                                   # 5 minutes, the release binary
#   DURATION=60 crates/benches/soak.sh                       # shorter
#   MEMORY=1 MEMORY_DURATION=300 crates/benches/soak.sh      # and the counted run
#   SOAK_ARGS="--mix revoke=20 --clients 64" crates/benches/soak.sh
#
# Reports go to $OUT (default target/soak): soak.json, and memory.json with MEMORY=1.
# The short mode CI runs is a test: cargo test -p benches --features soak --bin soak.
set -euo pipefail

DURATION="${DURATION:-300}"
CALIBRATE="${CALIBRATE:-10}"
LOAD="${LOAD:-0.8}"
WINDOW="${WINDOW:-10}"
MEMORY="${MEMORY:-0}"
MEMORY_DURATION="${MEMORY_DURATION:-300}"
MAX_GROWTH="${MAX_GROWTH:-1}"
JOBS="${JOBS:-2}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
out="${OUT:-$target/soak}"
cd "$root"
mkdir -p "$out"

# One build for both binaries (one feature resolution, so shared crates compile once).
cargo build --release --locked -j "$JOBS" -p benches --features soak --bin soak -p quickstart --bin quickstart >&2

echo "load before the soak: $(cat /proc/loadavg)"
# shellcheck disable=SC2086 # SOAK_ARGS is a list of options
"$target/release/soak" --quickstart "$target/release/quickstart" --duration "$DURATION" \
  --calibrate "$CALIBRATE" --load "$LOAD" --window "$WINDOW" --json "$out/soak.json" ${SOAK_ARGS:-}
echo "report: $out/soak.json"

if [ "$MEMORY" = "1" ]; then
  echo
  echo "load before the counted run: $(cat /proc/loadavg)"
  # shellcheck disable=SC2086
  "$target/release/soak" --duration "$MEMORY_DURATION" --calibrate "$CALIBRATE" --load "$LOAD" \
    --window "$WINDOW" --max-growth "$MAX_GROWTH" --json "$out/memory.json" ${MEMORY_ARGS:-}
  echo "report: $out/memory.json"
fi
