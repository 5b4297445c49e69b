"""Training one model across processes and hosts on Keras' distribution engine (JAX only):
the cluster's settings, joining it, and the supervisor that turns a lost peer into one error.

Every process runs the same ``xraynet fit`` with its own ``--process-id``; process 0's address
is the coordinator. Each joins through ``jax.distributed`` (CPU collectives over Gloo where
there is no accelerator), the model is replicated with ``keras.distribution.DataParallel`` over
the cluster's global device list, and each process reads its own shard of every batch
(:class:`~xraynet.data.loaders.SplitDataset`'s ``shard``). Only process 0 writes the run
directory, bundle and report; the others write nothing and exit 0 after the fit.

JAX ends a process whose peer died, or whose coordinator cannot be reached, with a fatal log and
SIGABRT; so a multi-process fit runs in a child process (:func:`supervise`) and that end becomes
one ``error:`` line and exit code 2. No Keras import at module level: the flags derive from
:class:`ClusterSettings` before a backend loads.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, replace

from .errors import XRayNetError
from .config_schema import check, setting

#: the environment variables Keras' ``keras.distribution.initialize`` reads
ENV = {"coordinator": "KERAS_DISTRIBUTION_JOB_ADDRESSES",
       "num_processes": "KERAS_DISTRIBUTION_NUM_PROCESSES",
       "process_id": "KERAS_DISTRIBUTION_PROCESS_ID"}
#: backends with a multi-process path in Keras' distribution API
MULTI_PROCESS_BACKENDS = ("jax",)
#: set in the supervised child (it trains; its parent only watches)
CHILD_ENV = "XRAYNET_CLUSTER_CHILD"


@dataclass(frozen=True)
class ClusterSettings:
    """Where this process stands in a training cluster (``xraynet fit`` and ``train-best``)."""

    coordinator: str | None = setting(None, help="process 0's address HOST:PORT, the same on "
                                      "every process", default_text=f"${ENV['coordinator']}")
    num_processes: int | None = setting(None, help="processes that train one model together, "
                                        "one per host or per device group", min=1, max=4096,
                                        default_text=f"${ENV['num_processes']}, else 1")
    process_id: int | None = setting(None, help="this process's rank, 0 (the coordinator, "
                                     "which writes the run) to N-1", min=0, max=4095,
                                     default_text=f"${ENV['process_id']}, else 0")
    cluster_timeout: float = setting(60.0, help="seconds to wait for every process to join, "
                                     "and for a silent peer before the fit fails", above=0,
                                     max=3600)

    def __post_init__(self) -> None:
        check(self, section="cluster")

    def resolved(self) -> "ClusterSettings":
        """Unset values from the environment variables Keras reads, then 1 process, rank 0."""
        def env(name: str, cast):
            text = os.environ.get(ENV[name])
            return cast(text) if text not in (None, "") else None

        return replace(self, coordinator=self.coordinator or env("coordinator", str),
                       num_processes=self.num_processes or env("num_processes", int) or 1,
                       process_id=(self.process_id if self.process_id is not None
                                   else env("process_id", int) or 0))


@dataclass(frozen=True)
class Process:
    """This process's place in the cluster (index 0 of 1 when training alone)."""

    index: int = 0
    count: int = 1

    @property
    def is_chief(self) -> bool:
        """Whether this process writes the run directory, bundle and report."""
        return self.index == 0

    @property
    def shard(self) -> tuple[int, int]:
        """The share of every batch this process reads: (its index, how many)."""
        return self.index, self.count


def cluster_problems(config: ClusterSettings, backend: str) -> list[str]:
    """Why ``config`` (resolved) cannot train on ``backend`` (empty: it can)."""
    if config.num_processes <= 1:
        return []
    lines = []
    if backend not in MULTI_PROCESS_BACKENDS:
        lines.append(f"--num-processes {config.num_processes}: training across processes runs on "
                     f"Keras' distribution API with {', '.join(MULTI_PROCESS_BACKENDS)} "
                     f"(KERAS_BACKEND=jax); this is {backend}")
    if not config.coordinator:
        lines.append(f"--num-processes {config.num_processes} needs --coordinator HOST:PORT "
                     f"(process 0's address) or ${ENV['coordinator']}")
    if config.process_id >= config.num_processes:
        lines.append(f"--process-id {config.process_id} must be below --num-processes "
                     f"{config.num_processes}")
    return lines


def join_cluster(config: ClusterSettings) -> Process:
    """Join the cluster ``config`` describes (resolved from the environment); alone: nothing.
    Call before any JAX computation."""
    import keras

    config = config.resolved()
    problems = cluster_problems(config, keras.backend.backend())
    if problems:
        raise XRayNetError("\n".join(problems))
    if config.num_processes <= 1:
        return Process()
    import jax

    jax.config.update("jax_cpu_collectives_implementation", "gloo")  # CPU devices' collectives
    timeout = int(config.cluster_timeout)
    jax.distributed.initialize(coordinator_address=config.coordinator.split(",")[0],
                               num_processes=config.num_processes, process_id=config.process_id,
                               initialization_timeout=timeout,
                               heartbeat_timeout_seconds=max(timeout, 10),
                               shutdown_timeout_seconds=timeout)
    return Process(index=jax.process_index(), count=jax.process_count())


def barrier(name: str, process: Process) -> None:
    """Wait until every process of the cluster reaches ``name`` (alone: return at once)."""
    if process.count > 1:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices(name)


def leave_cluster(process: Process) -> None:
    """Leave the cluster after the fit (every process together); the chief then goes on alone."""
    if process.count > 1:
        import jax

        jax.distributed.shutdown()


#: what JAX's fatal log says, and the one line the user gets for it
FATAL_REASONS = (
    (re.compile(r"RegisterTask|DEADLINE_EXCEEDED"), "could not join the training cluster: the "
     "coordinator was not reachable, or not every process started, within --cluster-timeout"),
    (re.compile(r"heartbeat|another task died|unhealthy|Barrier failed"), "a peer process of "
     "the training cluster stopped (no heartbeat within --cluster-timeout)"),
)
#: lines of JAX's and XLA's C++ logging (not xraynet's): shown only with --debug
NATIVE_LOG = re.compile(r"^([EFWI]\d{4} |\s+@ |\*\*\* |RPC: |Barrier result|\[Gloo\]|\S+\.cc:\d+\])")


def supervise(argv: list[str], *, debug: bool = False) -> int:
    """Run ``xraynet <argv>`` as a child process (:data:`CHILD_ENV` set) and pass its output on.
    A child ended by a signal (JAX's fatal error on a lost peer or coordinator) becomes one
    ``error:`` line and exit code 2; otherwise the child's own exit code."""
    env = {**os.environ, CHILD_ENV: "1"}
    child = subprocess.Popen([sys.executable, "-m", "xraynet.cli", *argv], env=env,
                             stderr=subprocess.PIPE, text=True, errors="replace")
    fatal: list[str] = []
    for line in child.stderr:
        if NATIVE_LOG.match(line):
            if line.startswith("F"):
                fatal.append(line)
            if debug:
                sys.stderr.write(line)
            continue
        sys.stderr.write(line)
    code = child.wait()
    if code >= 0 and code not in (134, 137):
        return code
    said = " ".join(fatal)
    reason = next((text for pattern, text in FATAL_REASONS if pattern.search(said)),
                  f"the training process ended by signal {-code if code < 0 else code - 128}")
    print(f"error: {reason}", file=sys.stderr)
    return 2
