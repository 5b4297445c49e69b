#!/usr/bin/env python
"""Bounded load test of `xraynet serve` on loopback: N concurrent clients for T seconds (or R
requests), then it stops by itself.

It starts the server itself (`python -m xraynet serve MODEL` on a free loopback port) unless
--url names a running one, and prints: the seconds from the start of `xraynet serve` to the first
answered request; latency p50/p95/p99; throughput; errors; the server's RSS before and after.

  python scripts/loadtest.py runs/<model> --images ../shared/data/Covid19-dataset/test \\
      --clients 4 --duration 120 --explain
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", nargs="?", help="run directory to serve (omit with --url)")
    p.add_argument("--url", help="a running server, e.g. http://127.0.0.1:8000 (RSS needs --pid)")
    p.add_argument("--pid", type=int, help="the running server's process id, for its RSS")
    p.add_argument("--images", required=True, help="an image file or a folder of them (recursive)")
    p.add_argument("--clients", type=int, default=4, help="concurrent clients (default: 4)")
    p.add_argument("--duration", type=float, default=30.0, help="seconds of load (default: 30)")
    p.add_argument("--requests", type=int, default=0, help="stop after this many requests (0: by time)")
    p.add_argument("--explain", action="store_true", help="ask for the Grad-CAM heatmap")
    p.add_argument("--tta", type=int, default=0, help="test-time augmentations per request")
    p.add_argument("--json", help="also write the figures to this JSON file")
    args = p.parse_args(argv)
    if not args.model and not args.url:
        p.error("give a MODEL to serve or the --url of a running server")
    if args.clients < 1 or args.duration <= 0:
        p.error("--clients must be >= 1 and --duration > 0")
    return args


def image_files(spec: str) -> list[Path]:
    path = Path(spec)
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        sys.exit(f"error: no images in {spec}")
    return files


def rss_mib(pid: int | None) -> float | None:
    """Resident set size of ``pid`` in MiB (Linux /proc), or None."""
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _multipart(name: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


class Client:
    """One keep-alive connection that posts images and records each request's latency."""

    def __init__(self, host: str, port: int, path: str) -> None:
        self.host, self.port, self.path = host, port, path
        self.connection = http.client.HTTPConnection(host, port, timeout=60)

    def post(self, name: str, data: bytes) -> tuple[int, float]:
        body, content_type = _multipart(name, data)
        start = time.perf_counter()
        try:
            self.connection.request("POST", self.path, body=body, headers={"Content-Type": content_type})
            response = self.connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            self.connection.close()
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
            status = 0
        return status, time.perf_counter() - start


def start_server(model: str) -> tuple[subprocess.Popen, str, float]:
    """``python -m xraynet serve MODEL`` on a free port; returns it, its URL and the seconds from
    its start to its first answered prediction."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "xraynet", "serve", model, "--port", str(port),
                             "--queue", "64"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    return proc, f"http://127.0.0.1:{port}", started


def first_answer(url: str, image: Path, started: float, proc: subprocess.Popen | None) -> float:
    host, port = url.removeprefix("http://").split(":")
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            sys.exit("error: the server exited during start-up")
        status, _ = Client(host, int(port), "/api/predict").post(image.name, image.read_bytes())
        if status == 200:
            return time.perf_counter() - started
        time.sleep(0.05)
    sys.exit("error: no answer from the server within 180 s")


def run_load(url: str, images: list[Path], *, clients: int, duration: float, max_requests: int,
             explain: bool, tta: int) -> dict:
    host, port = url.removeprefix("http://").split(":")
    path = f"/api/predict?explain={'true' if explain else 'false'}&tta={tta}"
    payloads = [(p.name, p.read_bytes()) for p in images]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock, counter = threading.Lock(), [0]
    stop_at = time.perf_counter() + duration

    def worker(index: int) -> None:
        client = Client(host, int(port), path)
        i = index
        while time.perf_counter() < stop_at:
            with lock:
                if max_requests and counter[0] >= max_requests:
                    return
                counter[0] += 1
            status, seconds = client.post(*payloads[i % len(payloads)])
            i += clients
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                if status == 200:
                    latencies.append(seconds)

    start = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    import numpy as np

    ms = np.asarray(latencies) * 1000
    total = sum(statuses.values())
    return {"clients": clients, "explain": explain, "tta": tta, "seconds": round(wall, 2),
            "requests": total, "ok": statuses.get(200, 0), "errors": total - statuses.get(200, 0),
            "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "throughput_rps": round(total / wall, 2) if wall else 0.0,
            **{f"p{q}_ms": (round(float(np.percentile(ms, q)), 1) if len(ms) else None) for q in (50, 95, 99)}}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    images = image_files(args.images)
    proc, started = None, time.perf_counter()
    if args.url:
        url, pid = args.url.rstrip("/"), args.pid
    else:
        proc, url, started = start_server(args.model)
        pid = proc.pid
    try:
        startup = first_answer(url, images[0], started, proc)
        rss_before = rss_mib(pid)
        load = run_load(url, images, clients=args.clients, duration=args.duration,
                        max_requests=args.requests, explain=args.explain, tta=args.tta)
        rss_after = rss_mib(pid)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    result = {"url": url, "images": len(images), "startup_s": None if args.url else round(startup, 2),
              **load, "rss_before_mib": rss_before, "rss_after_mib": rss_after,
              "rss_growth_mib": (round(rss_after - rss_before, 1)
                                 if rss_before is not None and rss_after is not None else None)}
    if result["startup_s"] is not None:
        print(f"start-up: {result['startup_s']:.1f} s from `xraynet serve` to the first answer")
    print(f"{load['clients']} clients, {load['seconds']:.0f} s, explain={load['explain']}, tta={load['tta']}: "
          f"{load['requests']} requests, {load['throughput_rps']:.1f}/s, errors {load['errors']}; "
          f"latency p50 {load['p50_ms']} ms, p95 {load['p95_ms']} ms, p99 {load['p99_ms']} ms")
    if rss_before is not None:
        print(f"server RSS {rss_before:.0f} MiB before, {rss_after:.0f} MiB after "
              f"({result['rss_growth_mib']:+.1f} MiB)")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0 if load["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
