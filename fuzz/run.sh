#!/usr/bin/env bash
# Reruns the fuzz targets: builds them, seeds each working corpus from seeds/<target>/,
# and fuzzes each for SECONDS (default 600), JOBS at a time (default 1), at nice 10.
#
#   fuzz/run.sh [SECONDS] [TARGET...]        # every target when none is named
#   JOBS=2 fuzz/run.sh 600
#   SKIP_BUILD=1 fuzz/run.sh 60 bearer     # the binaries already built, as they are
#
# Logs go to fuzz/logs/<target>.log; a summary line per target (executions, coverage
# `cov:` and features `ft:` from libFuzzer's last status line, crashes) is printed at the
# end and written to fuzz/logs/summary.txt. A crash leaves its input in
# fuzz/artifacts/<target>/ and makes the script exit non-zero.
# Works on the stable toolchain: RUSTC_BOOTSTRAP=1 lets it take the sanitizer flags.
set -euo pipefail
cd "$(dirname "$0")"

seconds="${1:-600}"
[ "$#" -gt 0 ] && shift
jobs="${JOBS:-1}"
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
if [ "$#" -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(cargo fuzz list | grep -vx seed); fi

[ -n "${SKIP_BUILD:-}" ] || cargo fuzz build -O -a
bin_dir="$CARGO_TARGET_DIR/$(rustc -vV | sed -n 's/^host: //p')/release"
mkdir -p logs

fuzz_one() {
  local target="$1"
  mkdir -p "corpus/$target" "artifacts/$target"
  local dict=()
  [ -f "dict/$target.dict" ] && dict=("-dict=dict/$target.dict")
  nice -n 10 "$bin_dir/$target" "corpus/$target" "seeds/$target" -artifact_prefix="artifacts/$target/" \
    -max_total_time="$seconds" -timeout=25 -print_final_stats=1 "${dict[@]}" >"logs/$target.log" 2>&1
}

summary() {
  local target="$1" log="logs/$1.log" status last runs
  status="ok"
  grep -qE '^==[0-9]+==ERROR|panicked at|deadly signal|Test unit written' "$log" && status="CRASH"
  last="$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)"
  runs="$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}' || true)"
  printf '%-18s %-5s execs=%-10s %s\n' "$target" "$status" "${runs:-?}" \
    "$(echo "$last" | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*|exec/s: [0-9]+' | tr '\n' ' ')"
}

failed=0
running=0
for target in "${targets[@]}"; do
  ( fuzz_one "$target" ) || true &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
done
wait

echo "== $(date -u '+%F %T') UTC, $seconds s per target, $jobs at a time" >>logs/summary.txt
for target in "${targets[@]}"; do
  line="$(summary "$target")"
  echo "$line" | tee -a logs/summary.txt
  case "$line" in *CRASH*) failed=1 ;; esac
done
exit "$failed"
