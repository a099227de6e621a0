#!/usr/bin/env bash
# scale.sh — drover beside pdsh, parallel-ssh, clush and `xargs -P64 ssh` on real
# sshd started on loopback: up to 1,000 nodes and gigabytes of output.
#
#   scripts/bench/scale.sh [bigout|fleet]...     (as root; both sections by default)
#
# Installs what the peers need when missing (pdsh, clustershell, openssh from apt;
# parallel-ssh in a venv under ~/.cache/drover-bench), raises this shell's
# file-descriptor limit (a thousand sshd listeners, a thousand client sockets and
# the peers' pipes; drover's own defaults stay as they are) and runs
# `cargo bench --bench scale`. DROVER_BENCH_NODES (default 1000) and
# DROVER_BENCH_RUNS (default 3) size it. What each section measures is in
# benches/scale.rs.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" = 0 ] || { echo "scale.sh: run as root (it starts sshd)" >&2; exit 2; }

need=()
command -v pdsh >/dev/null || need+=(pdsh)
command -v clush >/dev/null || need+=(clustershell)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh >/dev/null || need+=(openssh-client)
python3 -m venv --help >/dev/null 2>&1 || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
venv=${HOME}/.cache/drover-bench/pssh-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import pssh' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q parallel-ssh
fi
export DROVER_BENCH_PSSH=$venv/bin/python

ulimit -n "$(ulimit -Hn)"
exec cargo bench --bench scale -- "$@"
