# Sourced by load.sh and server_instructions.sh: what both need to run the release
# `load_server` (crates/peers) and read the `<url> <token>` line it prints once it
# accepts connections.

# Exits with a message naming `script` unless every tool is on the PATH.
require_tools() {
  local script="$1" tool
  shift
  for tool in "$@"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "$script: $tool is not installed; nothing measured" >&2
      exit 1
    fi
  done
}

# Waits until the server `pid` wrote its line to `out` (at most 60 s); exits, showing
# `err`, if it stopped first or never did.
await_announce() {
  local script="$1" mode="$2" pid="$3" out="$4" err="$5" waited=0
  while [ ! -s "$out" ]; do
    if ! kill -0 "$pid" 2>/dev/null || [ "$waited" -ge 600 ]; then
      echo "$script: load_server $mode did not start:" >&2
      cat "$err" >&2
      exit 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
}

# Builds the release `load_server` (with `JOBS` jobs) from the repository's root, which
# becomes the working directory, and sets `root`, `target`, `server` (the binary), `work`
# (a scratch directory) and `server_pid` (empty; set it to the running server's), and a
# trap that stops that server and removes `work` on exit.
prepare_load_server() {
  root="$(cd "$(dirname "$0")/../.." && pwd)"
  target="${CARGO_TARGET_DIR:-$root/target}"
  cd "$root"
  cargo build --locked --release -j "$JOBS" -p peers --bin load_server >&2
  server="$target/release/load_server"
  work="$(mktemp -d)"
  server_pid=""
  trap stop_load_server EXIT
}

stop_load_server() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
