#!/usr/bin/env python3
"""Waits until a server started by start.sh answers, or its process dies, or time runs out.

Checks (all must pass, retried every 0.5 s):
  --http URL          GET URL answers 200 (vLLM's /health: 200 once the engine is up)
  --grpc-health H:P   grpc.health.v1.Health/Check("") answers SERVING
Exit 0 when ready; 3 when process --pid is gone; 4 on time-out. One line on stderr says why.
Run with the engines venv's python (it has grpcio and grpcio-health-checking).
"""
import argparse
import os
import sys
import time
import urllib.request


def http_ok(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as r:  # loopback only (start.sh binds 127.0.0.1)
            return r.status == 200, f"HTTP {r.status}"
    except OSError as e:
        return False, f"{url}: {e}"


def grpc_serving(target):
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(target) as ch:
        try:
            resp = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(service=""), timeout=2)
        except grpc.RpcError as e:
            return False, f"gRPC health {target}: {e.code().name}"
    ok = resp.status == health_pb2.HealthCheckResponse.SERVING
    return ok, f"gRPC health {target}: {health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status)}"


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by start.sh's shell) counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--timeout-s", type=float, required=True)
    ap.add_argument("--http", action="append", default=[])
    ap.add_argument("--grpc-health", action="append", default=[])
    args = ap.parse_args()
    checks = [(http_ok, u) for u in args.http] + [(grpc_serving, t) for t in args.grpc_health]
    deadline = time.monotonic() + args.timeout_s
    last = "no check ran yet"
    while time.monotonic() < deadline:
        if not alive(args.pid):
            print(f"server process {args.pid} exited during start-up (last check: {last})", file=sys.stderr)
            return 3
        results = [check(arg) for check, arg in checks]
        if all(ok for ok, _ in results):
            return 0
        last = "; ".join(msg for ok, msg in results if not ok)
        time.sleep(0.5)
    print(f"not ready after {args.timeout_s:.0f} s (last check: {last})", file=sys.stderr)
    return 4


if __name__ == "__main__":
    sys.exit(main())
