#!/usr/bin/env python3
"""parallel-ssh as a command line, for the scale benchmark (benches/scale.rs).

pssh_run.py --hosts FILE --port P --user U --key KEY [--pool N] -- COMMAND

Runs COMMAND on every address in FILE with parallel-ssh's ParallelSSHClient
(libssh2), reads every node's output to the end (as a user would; it is
written to stdout, prefixed like pdsh), and exits 1 when any node failed or
exited non-zero.
"""
import argparse
import sys

from pssh.clients import ParallelSSHClient


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--hosts", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--pool", type=int, default=64)
    p.add_argument("command", nargs="+")
    a = p.parse_args()
    with open(a.hosts) as f:
        hosts = [line.strip() for line in f if line.strip()]
    client = ParallelSSHClient(
        hosts, user=a.user, port=a.port, pkey=a.key, pool_size=a.pool, num_retries=1
    )
    output = client.run_command(" ".join(a.command), stop_on_errors=False)
    out = sys.stdout.buffer
    failed = 0
    for host_out in output:
        if host_out.exception is not None:
            failed += 1
            print(f"{host_out.host}: {host_out.exception!r}", file=sys.stderr)
            continue
        for line in host_out.stdout:
            out.write(f"{host_out.host}: {line}\n".encode("utf-8", "surrogateescape"))
        for line in host_out.stderr:
            print(f"{host_out.host}: {line}", file=sys.stderr)
    client.join(output)
    for host_out in output:
        if host_out.exception is None and host_out.exit_code != 0:
            failed += 1
    out.flush()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
