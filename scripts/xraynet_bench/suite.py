"""The benchmark run: which sections, with which settings, in which processes (full or quick)."""

from __future__ import annotations

import importlib.util
import json
import logging
import platform
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from xraynet.defaults import DEFAULT_IMAGE_SIZE
from .timing import run_process

log = logging.getLogger("xraynet")


@dataclass(frozen=True)
class Plan:
    """Settings of one benchmark run; :meth:`quick` shrinks every section to a smoke test."""

    data: str
    out: str = "benchmarks"
    backends: tuple[str, ...] = ()
    default_backend: str = "tensorflow"
    seeds: tuple[int, ...] = (42, 43, 44)
    fit_args: tuple[str, ...] = ()
    image_size: int = DEFAULT_IMAGE_SIZE
    reference_epochs: int = 20
    reference_image_size: int = 256
    train_epochs: int = 10  # median of epochs 2..10: a few slow epochs (seen on 2 shared cores) do not decide it
    search_args: tuple[str, ...] = ()
    inference_calls: int = 100
    matmul_size: int = 1024
    matmul_seconds: float = 3.0
    quick: bool = False
    skip: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def quick_plan(cls, data: str, out: str, backends: tuple[str, ...], default_backend: str):
        return cls(data=data, out=out, backends=backends, default_backend=default_backend,
                   seeds=(42,), fit_args=("--epochs", "2", "--image-size", "32"), image_size=32,
                   reference_epochs=1, reference_image_size=64, train_epochs=2,
                   search_args=("--max-epochs", "2", "--image-size", "32"), inference_calls=5,
                   matmul_size=256, matmul_seconds=0.3, quick=True)


def installed_backends() -> list[str]:
    """Keras backends importable here, in a fixed order."""
    modules = {"jax": "jax", "tensorflow": "tensorflow", "torch": "torch"}
    return [b for b, m in modules.items() if importlib.util.find_spec(m) is not None]


def machine_facts() -> dict:
    """CPU model, cores and memory of this machine, and the library versions."""
    from xraynet.backend import cpu_threads, versions

    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    except OSError:  # pragma: no cover - non-Linux
        mem_kib = 0
    return {"cpu": model or platform.processor(), "cores": cpu_threads(),
            "memory_gib": round(mem_kib / 2**20, 1), "platform": platform.platform(),
            "versions": versions()}


class Runner:
    """Runs each section in a fresh process and keeps the results and logs under ``out``."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.out = Path(plan.out)
        self.logs = self.out / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.cache = tempfile.mkdtemp(prefix="xraynet-bench-cache-")

    def worker(self, section: str, backend: str, name: str, **kwargs) -> dict:
        log.info("benchmark: %s on %s ...", name, backend)
        run = run_process([sys.executable, "-m", "xraynet_bench.worker", section, json.dumps(kwargs)],
                          env={"KERAS_BACKEND": backend, "XRAYNET_CACHE_DIR": self.cache},
                          log_path=str(self.logs / f"{name}-{backend}.log"))
        if run["result"] is None:
            raise RuntimeError(f"benchmark section {name} on {backend} failed "
                               f"(exit {run['returncode']}); see {self.logs}/{name}-{backend}.log")
        log.info("benchmark: %s on %s took %.0fs", name, backend, run["wall_seconds"])
        return {**run["result"], "process_wall_seconds": run["wall_seconds"]}

    def reference(self, *, pipeline_only: bool = False) -> dict:
        if importlib.util.find_spec("tf_keras") is None:
            return {"skipped": "tf-keras is not installed (pip install -e '.[bench]')"}
        args = [sys.executable, "-m", "xraynet_bench.reference", "--data", self.plan.data,
                "--epochs", str(self.plan.reference_epochs),
                "--image-size", str(self.plan.reference_image_size)]
        name = "reference-pipeline" if pipeline_only else "reference"
        log.info("benchmark: %s ...", name)
        run = run_process(args + (["--pipeline-only"] if pipeline_only else []),
                          env={"TF_CPP_MIN_LOG_LEVEL": "2"}, log_path=str(self.logs / f"{name}.log"))
        if run["result"] is None:
            raise RuntimeError(f"{name} failed (exit {run['returncode']}); see {self.logs}/{name}.log")
        return {**run["result"], "process_wall_seconds": run["wall_seconds"]}

    def add_backend(self, results: dict, backend: str, *, model: str | None = None) -> dict:
        """``results`` of an earlier run with ``backend``'s matmul peak, training and inference
        rows added (measured now: the note under the tables says when)."""
        p = self.plan
        common = {"data": p.data, "cache_dir": self.cache}
        if model is None:
            model = self.worker("default_fit", p.default_backend, "fit-for-inference", seed=p.seeds[0],
                                out=str(self.out / "runs"), extra=list(p.fit_args), **common)["run_dir"]
        images = sorted(str(f) for f in Path(p.data, "test").glob("*/*") if f.is_file())
        results["peak"][backend] = self.worker("matmul_peak", backend, "matmul", size=p.matmul_size,
                                               seconds=p.matmul_seconds)
        results["training"][backend] = self.worker("training", backend, "training",
                                                   image_size=p.image_size, epochs=p.train_epochs,
                                                   **common)
        results["inference"][backend] = self.worker("inference", backend, "inference",
                                                    model_dir=model, images=images,
                                                    calls=p.inference_calls)
        results["plan"]["backends"] = sorted({*results["plan"]["backends"], backend})
        version = results["inference"][backend].get("version") or ""
        results.setdefault("added", {})[backend] = time.strftime("%Y-%m-%d %H:%M:%S %Z") + (
            f" ({backend} {version})" if version else "")
        return results

    def run(self) -> dict:
        p, results = self.plan, {}
        started = time.time()
        backends = list(p.backends) or installed_backends()
        default = p.default_backend if p.default_backend in backends else backends[0]
        common = {"data": p.data, "cache_dir": self.cache}
        results["machine"] = machine_facts()
        results["peak"] = {b: self.worker("matmul_peak", b, "matmul", size=p.matmul_size,
                                          seconds=p.matmul_seconds) for b in backends}
        results["reference"] = self.reference()
        results["reference_pipeline"] = self.reference(pipeline_only=True)
        results["pipeline"] = self.worker("input_pipeline", default, "pipeline",
                                          image_size=p.image_size, **common)
        results["training"] = {b: self.worker("training", b, "training", image_size=p.image_size,
                                              epochs=p.train_epochs, **common) for b in backends}
        fits = []
        for seed in p.seeds:
            fits.append(self.worker("default_fit", default, f"fit-seed{seed}", seed=seed,
                                    out=str(self.out / "runs"), extra=list(p.fit_args), **common))
        results["fits"] = fits
        images = sorted(str(f) for f in Path(p.data, "test").glob("*/*") if f.is_file())
        results["inference"] = {b: self.worker("inference", b, "inference",
                                               model_dir=fits[0]["run_dir"], images=images,
                                               calls=p.inference_calls) for b in backends}
        if "search" not in p.skip:
            results["search"] = self.worker("default_search", default, "search",
                                            out=str(self.out / "runs"), extra=list(p.search_args),
                                            **common)
        results["plan"] = {**asdict(p), "backends": backends, "default_backend": default}
        results["started"] = time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(started))
        results["total_seconds"] = time.time() - started
        return results

