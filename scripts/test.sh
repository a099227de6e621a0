#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need when it
# is missing (apt-get, as root), then format check, lints and every test.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v tmux >/dev/null || missing+=(tmux)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ssh >/dev/null || missing+=(openssh-client)
command -v ip >/dev/null || missing+=(iproute2)
command -v nodeset >/dev/null || missing+=(clustershell)
command -v socat >/dev/null || missing+=(socat)
# The service's TCP listener is tested with a real TLS client and a certificate made here.
command -v curl >/dev/null || missing+=(curl)
command -v openssl >/dev/null || missing+=(openssl)
# The service's RBAC test runs a client as a second account (runuser, useradd).
command -v runuser >/dev/null || missing+=(util-linux)
# PostgreSQL for the store's PostgreSQL tests (tests/pg_support starts its own servers).
# Debian's package puts initdb and postgres in /usr/lib/postgresql/<version>/bin, off PATH.
if ! command -v initdb >/dev/null && ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  missing+=(postgresql)
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "test.sh: missing ${missing[*]}: install them (or run as root to let this script do it)" >&2
    exit 1
  fi
fi
# initdb and postgres refuse to run as root: the test servers run as this system user,
# which owns nothing but their throwaway data dirs (see tests/pg_support/machine.rs).
if [ "$(id -u)" = 0 ] && ! getent passwd drover-pg >/dev/null; then
  useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin drover-pg
fi
# ansible-core and ClusterShell, the oracles the target and inventory tests compare
# against (PyPI, in a venv; `nodeset` also comes from Debian's clustershell above).
if ! command -v ansible-inventory >/dev/null && [ -z "${DROVER_ANSIBLE_INVENTORY:-}" ]; then
  venv="$HOME/.cache/drover-test/ansible-venv"
  if [ ! -x "$venv/bin/ansible-inventory" ] || [ ! -x "$venv/bin/nodeset" ]; then
    echo "test.sh: installing ansible-core and ClusterShell into $venv"
    python3 -m venv "$venv" && "$venv/bin/pip" install -q ansible-core ClusterShell
  fi
  export DROVER_ANSIBLE_INVENTORY="$venv/bin/ansible-inventory"
fi
# Every test that cannot run its prerequisite (root, sshd, tmux, network namespaces,
# ansible-core, nodeset, ssh-agent, PostgreSQL) fails instead of skipping (tests/prereq).
export DROVER_REQUIRE_FLEET=1
# One build, no incremental caches: they double the target directory and a CI runner
# builds once (set CARGO_INCREMENTAL=1 to keep them between local runs).
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
for component in rustfmt clippy; do
  rustup component list --installed 2>/dev/null | grep -q "^$component" || rustup component add "$component"
done

cargo fmt --check
cargo clippy --all-targets -- -D warnings
cargo test --no-fail-fast 2>&1
