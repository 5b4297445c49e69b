#!/usr/bin/env python
"""Bounded load test of `xraynet serve` on loopback: N concurrent clients for T seconds (or R
requests), then it stops by itself.

It starts the server itself (`python -m xraynet serve MODEL` on a free loopback port) unless
--url names a running one, and prints: the seconds from the start of `xraynet serve` to the first
answered request; latency p50/p95/p99; throughput; errors; the server's RSS before and after.

  python scripts/loadtest.py runs/<model> --images ../shared/data/Covid19-dataset/test \\
      --clients 4 --duration 120 --explain

--overload runs 4 clients, then 16 (each for --duration, clients retrying a refused request at
once, as a hostile client would) and reports the 16-client answered rate as a share of the
4-client rate. --huge-mpx N posts one N-megapixel 16-bit PNG from 1 client, then from 4 at once,
and reports the server's peak RSS rise for each (pass --server-arg=--max-megapixels=140 to let
the server decode it rather than refuse it).
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
    p.add_argument("--overload", action="store_true",
                   help="4 clients, then 16: the answered rate under overload against the 4-client rate")
    p.add_argument("--huge-mpx", type=float, default=0,
                   help="post a 16-bit PNG of this many megapixels from 1, then 4 clients at once; "
                   "report the server's peak RSS rise")
    p.add_argument("--server-arg", action="append", default=[],
                   help="an extra argument for `xraynet serve` (repeatable), e.g. --server-arg=--queue=8")
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


def rss_mib(pid: int | None, entry: str = "VmRSS") -> float | None:
    """Resident set size of ``pid`` in MiB (Linux /proc; ``entry`` "VmHWM": its peak), or None."""
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(entry + ":"):
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


def start_server(model: str, extra: list[str] = ()) -> tuple[subprocess.Popen, str, float]:
    """``python -m xraynet serve MODEL`` on a free port; returns it, its URL and the seconds from
    its start to its first answered prediction."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "xraynet", "serve", model, "--port", str(port),
                             *extra],
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


def reset_peak(pid: int) -> bool:
    """Reset the process's peak RSS to its current RSS (Linux ``clear_refs``)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def huge_png(megapixels: float) -> bytes:
    """A square 16-bit grey PNG of about ``megapixels`` (a smooth ramp: it compresses well)."""
    import io

    import numpy as np
    from PIL import Image

    side = int(round((megapixels * 1e6) ** 0.5))
    y = np.arange(side, dtype=np.uint32)[:, None]
    x = np.arange(side, dtype=np.uint32)[None, :]
    buffer = io.BytesIO()
    Image.fromarray((((y * 3 + x * 5) // 7) % 65536).astype(np.uint16)).save(buffer, format="PNG")
    return buffer.getvalue()


def huge_uploads(url: str, pid: int, data: bytes, clients: int) -> dict:
    """``clients`` concurrent posts of ``data``: their statuses, seconds, and the server's peak
    RSS rise over its RSS just before."""
    host, port = url.removeprefix("http://").split(":")
    time.sleep(1.0)
    reset_peak(pid)
    before = rss_mib(pid)
    results: list[tuple[int, float]] = []
    threads = [threading.Thread(target=lambda: results.append(
        Client(host, int(port), "/api/predict").post("huge16.png", data))) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    peak = rss_mib(pid, "VmHWM")
    return {"clients": clients, "bytes": len(data), "statuses": sorted(s for s, _ in results),
            "seconds_max": round(max(t for _, t in results), 2), "rss_before_mib": before,
            "peak_rss_mib": peak, "peak_rise_mib": round(peak - before, 1) if peak and before else None,
            "peak_rise_mb": round((peak - before) * 1.048576, 1) if peak and before else None}


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
        proc, url, started = start_server(args.model, args.server_arg)
        pid = proc.pid
    result: dict = {"url": url, "images": len(images), "server_args": args.server_arg}
    try:
        startup = first_answer(url, images[0], started, proc)
        result["startup_s"] = None if args.url else round(startup, 2)
        if result["startup_s"] is not None:
            print(f"start-up: {result['startup_s']:.1f} s from `xraynet serve` to the first answer")
        if args.huge_mpx:
            data = huge_png(args.huge_mpx)
            result["huge"] = [huge_uploads(url, pid, data, n) for n in (1, 4)]
            for h in result["huge"]:
                print(f"{args.huge_mpx:g} Mpx 16-bit PNG ({h['bytes'] / 1e6:.1f} MB) x {h['clients']} at once: "
                      f"statuses {h['statuses']}, {h['seconds_max']} s; server peak RSS "
                      f"+{h['peak_rise_mb']} MB ({h['rss_before_mib']:.0f} -> {h['peak_rss_mib']:.0f} MiB)")
        phases = (4, 16) if args.overload else (args.clients,)
        loads = []
        for clients in phases:
            rss_before = rss_mib(pid)
            load = run_load(url, images, clients=clients, duration=args.duration,
                            max_requests=args.requests, explain=args.explain, tta=args.tta)
            load.update(rss_before_mib=rss_before, rss_after_mib=rss_mib(pid))
            load["answered_rps"] = round(load["ok"] / load["seconds"], 2) if load["seconds"] else 0.0
            loads.append(load)
            print(f"{load['clients']} clients, {load['seconds']:.0f} s, explain={load['explain']}, "
                  f"tta={load['tta']}: {load['requests']} requests, {load['answered_rps']:.1f} answered/s, "
                  f"statuses {load['statuses']}; latency of answers p50 {load['p50_ms']} ms, "
                  f"p95 {load['p95_ms']} ms, p99 {load['p99_ms']} ms")
        if proc is not None and proc.poll() is not None:
            sys.exit("error: the server exited during the load")
        result["health_after"] = health(url)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    result.update(loads[-1] if not args.overload else {"phases": loads})
    failures = sum(n for code, n in loads[-1]["statuses"].items() if code not in ("200", "503"))
    if args.overload:
        four, sixteen = loads
        result["overload_ratio"] = round(sixteen["answered_rps"] / four["answered_rps"], 3) if four["answered_rps"] else None
        print(f"overload: 16 clients answered {result['overload_ratio']:.0%} of the 4-client rate; "
              f"{sixteen['statuses'].get('503', 0)} refused with 503")
        failures = sum(n for load in loads for code, n in load["statuses"].items() if code not in ("200", "503"))
    print(f"health after the load: {result['health_after']}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0 if failures == 0 and result["health_after"] == "ok" else 1


def health(url: str) -> str:
    """The server's /api/health status, or what went wrong."""
    host, port = url.removeprefix("http://").split(":")
    try:
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        connection.request("GET", "/api/health")
        response = connection.getresponse()
        return json.loads(response.read()).get("status", "?") if response.status == 200 else f"HTTP {response.status}"
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return f"unreachable ({exc})"


if __name__ == "__main__":
    sys.exit(main())
