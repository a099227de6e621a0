#!/usr/bin/env bash
# How many events per second `drover events --follow` sustains, on a real state dir
# with local nodes (no sshd needed). Two figures:
#
#   live      a follower tails while `drover run` fans `echo` out over NODES local
#             nodes in another process: events printed / seconds from the first to
#             the last line, and how long after the run ended the last line came;
#   catch-up  a follower started on the full log (--after 0): events printed per
#             second until it has printed all of them (the read side alone).
#
#   scripts/bench/events.sh [NODES] [ROUNDS]      # defaults: 2000 nodes, 3 rounds
#
# Uses $DROVER, else the release binary ($CARGO_TARGET_DIR or target/release);
# build it first (`cargo build --release`). Prints one line per round and figure.
set -euo pipefail
cd "$(dirname "$0")/../.."

nodes="${1:-2000}"
rounds="${2:-3}"
bin="${DROVER:-${CARGO_TARGET_DIR:-target}/release/drover}"
[ -x "$bin" ] || { echo "events.sh: no drover binary at $bin (set DROVER=...)" >&2; exit 2; }

work="$(mktemp -d)"
follower=""
cleanup() {
  [ -n "$follower" ] && kill "$follower" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

{
  echo "nodes:"
  for i in $(seq -f "%05g" 1 "$nodes"); do echo "  n$i: { groups: [bench] }"; done
} >"$work/inventory.yaml"

now() { date +%s.%N; }
lines() { wc -l <"$1" | tr -d ' '; }

export XDG_CONFIG_HOME="$work/config"
drover() {
  "$bin" --state-dir "$work/state" -i "$work/inventory.yaml" "$@"
}
# The follower is started directly, so that $! is drover itself and the signal
# that stops it reaches drover, not a subshell waiting for it.
follow() {
  "$bin" --state-dir "$work/state" -i "$work/inventory.yaml" events --follow --after 0 &
  follower=$!
}

# Waits until FILE has COUNT lines (at most 120 s); prints when the last one came.
wait_lines() {
  local file="$1" count="$2" deadline=$(( $(date +%s) + 120 )) seen
  while :; do
    seen="$(lines "$file")"
    [ "$seen" -ge "$count" ] && { now; return; }
    [ "$(date +%s)" -ge "$deadline" ] && { echo "events.sh: only $seen of $count lines" >&2; exit 1; }
    sleep 0.01
  done
}

for round in $(seq 1 "$rounds"); do
  rm -rf "$work/state"
  out="$work/live.jsonl"
  : >"$out"
  # An empty log: --after 0 makes the follower print everything, so it need not
  # be ready before the run starts.
  follow >"$out" 2>"$work/follow.err"
  start="$(now)"
  drover run -t @bench -f 256 -- echo x >/dev/null
  ran="$(now)"
  total="$(drover events | wc -l | tr -d ' ')"
  last="$(wait_lines "$out" "$total")"
  kill -TERM "$follower"; wait "$follower" || true; follower=""
  first_ts="$(head -1 "$out" | sed 's/.*"ts":"\([^"]*\)".*/\1/')"
  first="$(date -d "$first_ts" +%s.%N)"
  awk -v n="$total" -v a="$first" -v b="$last" -v r="$ran" -v s="$start" -v nodes="$nodes" -v round="$round" 'BEGIN {
    printf "round %d live:     %d events (%d nodes) in %.2f s: %.0f events/s printed; run took %.2f s; last line %.0f ms after the run ended\n",
      round, n, nodes, b - a, n / (b - a), r - s, (b - r) * 1000 }'

  out="$work/catchup.jsonl"
  : >"$out"
  start="$(now)"
  follow >"$out" 2>>"$work/follow.err"
  last="$(wait_lines "$out" "$total")"
  kill -TERM "$follower"; wait "$follower" || true; follower=""
  awk -v n="$total" -v a="$start" -v b="$last" -v round="$round" 'BEGIN {
    printf "round %d catch-up: %d events in %.2f s (process start included): %.0f events/s\n",
      round, n, b - a, n / (b - a) }'
done
