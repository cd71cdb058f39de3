# Sourced by callgrind.sh and issuer_callgrind.sh: instructions per request of one
# scenario of an instruction-count bin, (Ir(N2) - Ir(N1)) / (N2 - N1), collected only in
# `run_measured` (benches::fixture), so set-up never counts.
#
#   per_request_of <script name> <bin> <scenario> <N1> <N2> <output dir>
#
# Prints the figure; on a failed run or nothing collected, says why on stderr and exits.
# The profiles stay in <output dir> as <scenario>.<N>.callgrind.

# Instructions collected in `run_measured` for `scenario` run `n` times.
instructions_of() {
  local name="$1" bin="$2" scenario="$3" n="$4" out="$5"
  local file="$out/$scenario.$n.callgrind"
  if ! valgrind --tool=callgrind --toggle-collect='*run_measured*' --callgrind-out-file="$file" \
      "$bin" "$scenario" "$n" >"$out/$scenario.$n.log" 2>&1; then
    echo "$name: $scenario $n failed:" >&2
    cat "$out/$scenario.$n.log" >&2
    exit 1
  fi
  awk '/^(summary|totals):/ { print $2; exit }' "$file"
}

per_request_of() {
  local name="$1" bin="$2" scenario="$3" n1="$4" n2="$5" out="$6" ir1 ir2
  ir1="$(instructions_of "$name" "$bin" "$scenario" "$n1" "$out")"
  ir2="$(instructions_of "$name" "$bin" "$scenario" "$n2" "$out")"
  if [ -z "$ir1" ] || [ -z "$ir2" ] || [ "$ir2" -le "$ir1" ]; then
    echo "$name: $scenario: no instructions collected in run_measured ($ir1, $ir2)" >&2
    exit 1
  fi
  echo $(( (ir2 - ir1) / (n2 - n1) ))
}
