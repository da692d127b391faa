"""A bounded loopback load test of `refundrules serve`: N concurrent clients for S seconds.

    .venv/bin/python benchmarks/load_test.py [--clients 8] [--seconds 20] [--reload-every 0]

Starts the service on a free loopback port (a subprocess, so client and server do not share a
GIL), waits for /health, then each client posts the bundled examples to /predict in turn.
With --reload-every T a ninth thread reloads the pack every T seconds meanwhile. Prints
requests/s, p50/p99 latency and the errors (any non-200 answer or failed request).
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

import refundrules

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bodies() -> list[dict[str, object]]:
    times = json.loads((ROOT / "examples" / "as_of.json").read_text("utf-8"))
    return [
        {
            "case": refundrules.load_case(ROOT / "examples" / name).model_dump(mode="json"),
            "as_of": moment,
        }
        for name, moment in sorted(times.items())
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--reload-every", type=float, default=0.0)
    args = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "refundrules", "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.1)
        payloads = bodies()
        latencies: list[float] = []
        errors: list[str] = []
        reloads = 0
        lock = threading.Lock()
        stop = threading.Event()

        def client(seed: int) -> None:
            with httpx.Client(base_url=base, timeout=30) as http:
                index = seed
                while not stop.is_set():
                    body = payloads[index % len(payloads)]
                    index += 1
                    began = time.perf_counter()
                    try:
                        response = http.post("/predict", json=body)
                        problem = None if response.status_code == 200 else str(response.status_code)
                    except httpx.HTTPError as exc:
                        problem = type(exc).__name__
                    took = time.perf_counter() - began
                    with lock:
                        latencies.append(took)
                        if problem is not None:
                            errors.append(problem)

        def reloader() -> None:
            nonlocal reloads
            with httpx.Client(base_url=base, timeout=60) as http:
                while not stop.wait(args.reload_every):
                    response = http.post("/packs/pinduoduo/reload")
                    with lock:
                        reloads += 1
                        if response.status_code != 200:
                            errors.append(f"reload {response.status_code}")

        threads = [threading.Thread(target=client, args=(seed,)) for seed in range(args.clients)]
        if args.reload_every > 0:
            threads.append(threading.Thread(target=reloader))
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        time.sleep(args.seconds)
        stop.set()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
    finally:
        server.terminate()
        server.wait(timeout=30)
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(
        f"{args.clients} clients, {elapsed:.1f} s: {len(latencies)} requests, "
        f"{len(latencies) / elapsed:.1f} requests/s, p50 {statistics.median(ordered) * 1000:.1f} ms, "
        f"p99 {p99 * 1000:.1f} ms, errors {len(errors)}"
        + (f", reloads {reloads}" if args.reload_every > 0 else "")
        + (f" ({sorted(set(errors))})" if errors else "")
    )


if __name__ == "__main__":
    main()
