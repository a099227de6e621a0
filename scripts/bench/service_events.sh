#!/usr/bin/env bash
# How many events per second `GET /v1/events` of `drover serve` sustains to one
# client. A service runs on NODES local nodes; one client reads /v1/events over
# the Unix socket (a small Python reader counting SSE messages) while RUNS runs
# of `echo` over every node are started through `POST /v1/runs` at once. Prints
# messages, seconds from the first to the last message, and messages/s; the
# reader stops after the last run's execution_finished. `lagged` counts the
# times the reader fell behind the engine's bus (events lost to it): with 0, the
# figure is what the engine produced and the client kept up with.
#
#   scripts/bench/service_events.sh [NODES] [RUNS]    # defaults: 200 nodes, 20 runs
#
# Uses $DROVER, else the release binary ($CARGO_TARGET_DIR or target/release);
# build it first (`cargo build --release`). Needs python3.
set -euo pipefail
cd "$(dirname "$0")/../.."

nodes="${1:-200}"
runs="${2:-20}"
bin="${DROVER:-${CARGO_TARGET_DIR:-target}/release/drover}"
[ -x "$bin" ] || { echo "service_events.sh: no drover binary at $bin (set DROVER=...)" >&2; exit 2; }

work="$(mktemp -d)"
service=""
cleanup() {
  [ -n "$service" ] && kill "$service" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

{
  echo "nodes:"
  for i in $(seq 1 "$nodes"); do echo "  n$i: { groups: [web] }"; done
} > "$work/inventory.yaml"
printf '[execution]\nfanout = %s\n' "$nodes" > "$work/config.toml"
export XDG_CONFIG_HOME="$work/config" XDG_STATE_HOME="$work/xdg"
sock="$work/sock/s.sock"
"$bin" --config "$work/config.toml" --state-dir "$work/state" -i "$work/inventory.yaml" \
  serve --foreground --socket "$sock" 2>"$work/serve.err" &
service=$!
for _ in $(seq 1 300); do [ -S "$sock" ] && break; sleep 0.05; done
[ -S "$sock" ] || { cat "$work/serve.err" >&2; exit 1; }

python3 - "$sock" "$runs" <<'PY'
import json, socket, sys, threading, time

sock_path, runs = sys.argv[1], int(sys.argv[2])

def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    return s

def post_run():
    body = json.dumps({"targets": "@web", "command": "echo hello"}).encode()
    s = connect()
    s.sendall(b"POST /v1/runs HTTP/1.1\r\nhost: d\r\nconnection: close\r\ndrover-protocol: 1\r\n"
              b"content-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(body) + body)
    answer = b""
    while True:
        more = s.recv(65536)
        if not more:
            break
        answer += more
    assert b" 201 " in answer.split(b"\r\n", 1)[0], answer

events = connect()
events.sendall(b"GET /v1/events HTTP/1.1\r\nhost: d\r\ndrover-protocol: 1\r\n\r\n")
buf = b""
while b"\r\n\r\n" not in buf:
    buf += events.recv(65536)
head, buf = buf.split(b"\r\n\r\n", 1)
assert b" 200 " in head.split(b"\r\n", 1)[0], head

threads = [threading.Thread(target=post_run) for _ in range(runs)]
for t in threads:
    t.start()

messages = finished = lagged = 0
first = last = None
# A lagged reader may have lost some execution_finished: it stops after 5 quiet seconds.
events.settimeout(5)
while finished < runs:
    try:
        more = events.recv(1 << 20)
    except socket.timeout:
        break
    if not more:
        break
    now = time.monotonic()
    buf += more
    # Whole messages only; the last piece may be one still arriving.
    *whole, buf = buf.split(b"\n\n")
    for message in whole:
        if b"data:" not in message:
            continue
        messages += 1
        first = first or now
        last = now
        if b"event: lagged" in message:
            lagged += 1
        elif b"event: execution_finished" in message:
            finished += 1
for t in threads:
    t.join()
secs = max(last - first, 1e-9)
print(f"/v1/events: {messages} messages in {secs:.3f} s = {messages / secs:,.0f} messages/s ({runs} runs; {lagged} lagged messages)")
PY
