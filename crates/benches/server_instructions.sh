#!/usr/bin/env bash
# End to end in instructions: what the release `load_server` (the server load.sh drives)
# executes per HTTP request, counted by callgrind, mode by mode. Unlike requests per second
# this does not move with the machine's load, so it shows what each layer adds to a whole
# hyper request (user space only: the kernel's share of a request, its reads and writes,
# is not counted, so the ratios here are lower bounds of the ones wrk measures).
#
#   crates/benches/server_instructions.sh                       # every mode, RS256 and HS256
#   ALGS=hs256 MODES="none warm" N=1000 crates/benches/server_instructions.sh
#   ALGS=hs256 MODES="none warm dpop" crates/benches/server_instructions.sh   # DPoP beside Bearer
#
# Per mode: a fresh server (one worker) under callgrind, WARMUP requests on one keep-alive
# connection, the counters zeroed, N more requests, the counters dumped: instructions / N.
# Prints one line per mode and the ratios none/warm and jwt-authorizer/cold (what the
# requests-per-second ratios warm/none and cold/jwt-authorizer would be if the server
# spent nothing in the kernel). Needs valgrind and python3 (the client: its standard
# library only).
#
# The mode `dpop` counts two servers, each sent the same DPoP requests (`GET /orders`,
# `Host: bench.example`, `Authorization: DPoP <bound HS256 token>` and a fresh ES256 proof
# each, minted by the server, the same every run): `none` (hyper and the handler) and
# `dpop` (the guard). The proof's signature is what the `dpop` server spent inside its
# signature checks (`VerifyingKey::verify`, inclusive, read from the same profile); a DPoP
# request with it set aside is compared with a warm Bearer request (`warm`, HS256 as the
# bound token), and the guard's own work on each (`dpop - none - signature`, `warm - none`).
# Needs callgrind_annotate too for this mode.

set -euo pipefail

N="${N:-2000}"
WARMUP="${WARMUP:-300}"
ALGS="${ALGS:-rs256 hs256}"
MODES="${MODES:-none warm cold jwt-authorizer aliri dpop}"
JOBS="${JOBS:-2}"

# shellcheck source=crates/benches/load_server.sh
. "$(dirname "$0")/load_server.sh"
require_tools server_instructions.sh valgrind callgrind_control python3
if [[ " $MODES " == *" dpop "* ]]; then require_tools server_instructions.sh callgrind_annotate; fi
prepare_load_server

# `count` requests on one keep-alive connection, each with the token; fails unless every
# answer is 200. With a proofs file, DPoP requests, each with the next proof from line
# `first` on.
drive() {
  python3 - "$1" "$2" "$3" "${4:-}" "${5:-0}" <<'PY'
import http.client, sys
url, token, count, proofs, first = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
host, port = url.split("//")[1].rstrip("/").split(":")
connection = http.client.HTTPConnection(host, int(port))
if proofs:
    with open(proofs) as lines:
        proofs = lines.read().split()[first:first + count]
    if len(proofs) < count:
        sys.exit("too few proofs")
for n in range(count):
    if proofs:
        path, headers = "/orders", {"Host": "bench.example", "Authorization": "DPoP " + token, "DPoP": proofs[n]}
    else:
        path, headers = "/", {"Authorization": "Bearer " + token}
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.read()
    if response.status != 200:
        sys.exit(f"answered {response.status}")
PY
}

# Instructions per request of `mode` with `alg`; with a third argument, `dpop`, sent DPoP
# requests (the server writes their proofs).
per_request() {
  local mode="$1" alg="$2" proofs=()
  rm -f "$work"/out "$work"/callgrind.* "$work"/proofs
  if [ "${3:-}" = dpop ]; then proofs=(--proofs "$work/proofs" --count $((WARMUP + N))); fi
  valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.%p" \
    "$server" "$mode" --alg "$alg" --workers 1 "${proofs[@]}" >"$work/out" 2>"$work/valgrind.err" &
  server_pid=$!
  await_announce server_instructions.sh "$mode" "$server_pid" "$work/out" "$work/valgrind.err"
  local url token file=""
  read -r url token <"$work/out"
  if [ "${3:-}" = dpop ]; then file="$work/proofs"; fi
  drive "$url" "$token" "$WARMUP" "$file" 0
  callgrind_control --zero "$server_pid" >/dev/null 2>&1
  drive "$url" "$token" "$N" "$file" "$WARMUP"
  callgrind_control --dump "$server_pid" >/dev/null 2>&1
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
  # The dump is the profile's part 1; the rest (part 2) is the shutdown.
  local total
  total="$(awk '/^summary:/ { print $2; exit }' "$work"/callgrind.*.1)"
  if [ "$mode" = dpop ]; then
    # What the checks of the proofs' signatures spent, inclusive (read below).
    callgrind_annotate --auto=no --inclusive=yes --threshold=100 "$work"/callgrind.*.1 |
      awk '/VerifyingKey::verify / && !/=>/ { gsub(",", "", $1); print $1; exit }' >"$work/signature"
  fi
  echo $((total / N))
}

declare -A counted
for alg in $ALGS; do
  for mode in $MODES; do
    [ "$mode" = dpop ] && continue
    counted["$mode/$alg"]="$(per_request "$mode" "$alg")"
    printf '%-6s %-15s %10s instructions per request\n' "$alg" "$mode" "${counted[$mode/$alg]}"
  done
  if [ -n "${counted[none/$alg]:-}" ] && [ -n "${counted[warm/$alg]:-}" ]; then
    awk -v none="${counted[none/$alg]}" -v warm="${counted[warm/$alg]}" -v alg="$alg" 'BEGIN {
      printf "%-6s warm adds %d; none/warm %.3f (the requests-per-second ratio warm/none, user space only)\n",
        alg, warm - none, none / warm }'
  fi
  if [ -n "${counted[cold/$alg]:-}" ] && [ -n "${counted[jwt-authorizer/$alg]:-}" ]; then
    awk -v cold="${counted[cold/$alg]}" -v peer="${counted[jwt-authorizer/$alg]}" -v alg="$alg" 'BEGIN {
      printf "%-6s jwt-authorizer/cold %.3f (the requests-per-second ratio cold/jwt-authorizer, user space only)\n",
        alg, peer / cold }'
  fi
done

# DPoP: the two servers sent the same DPoP requests, beside HS256's Bearer figures.
if [[ " $MODES " == *" dpop "* ]]; then
  for mode in none dpop; do
    counted["$mode/dpop"]="$(per_request "$mode" hs256 dpop)"
    printf '%-6s %-15s %10s instructions per request\n' dpop "$mode" "${counted[$mode/dpop]}"
  done
  signature="$(cat "$work/signature" 2>/dev/null || true)"
  if [ -z "$signature" ]; then
    echo "server_instructions.sh: no VerifyingKey::verify in the dpop profile" >&2
    exit 1
  fi
  awk -v none="${counted[none/dpop]}" -v dpop="${counted[dpop/dpop]}" -v signature="$((signature / N))" \
    -v warm="${counted[warm/hs256]:-}" -v bare="${counted[none/hs256]:-}" 'BEGIN {
      guard = dpop - none - signature
      printf "dpop   the proof signature %d; the guard on a DPoP request adds %d beside it\n", signature, guard
      if (warm != "") {
        printf "dpop   a DPoP request, its signature aside, %d: %.3f x a warm Bearer request (%d)\n",
          dpop - signature, (dpop - signature) / warm, warm
        printf "dpop   the guard alone: %d on a DPoP request, %d on a Bearer one: %.3f x\n",
          guard, warm - bare, guard / (warm - bare)
      }
    }'
fi
