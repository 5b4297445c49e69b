"""The model behind the server: loaded once, run on one thread, behind a bounded queue.

A request is admitted before any work is done on it: at most ``queue_limit`` requests wait
beside the one running, and beyond that a request is refused at once (:class:`Busy`), having cost
only the reading of its bytes. An admitted upload is then parsed and decoded on a small pool of
its own (``decode_workers`` threads) under a memory budget: each decode reserves the bytes its
header says it will take (:func:`~xraynet.data.decode.decode_cost`) and waits until they fit,
so concurrent huge uploads are decoded one after another rather than all at once. Every
backend's model is used by one dedicated thread, so concurrent requests never call it at once
(JAX, TensorFlow and torch models are not all safe to call from many threads). A request that
waits and runs longer than ``timeout_s`` is answered with :class:`TimedOut` (its work, if
started, still finishes and frees its place).
"""

from __future__ import annotations

import asyncio
import base64
import io
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from contextlib import contextmanager
from dataclasses import replace
from typing import Callable, Iterator

import numpy as np
from PIL import Image

from .settings import ServeSettings
from ..data.decode import DecodeSettings, ImageFacts, decode_cost, decode_with_facts
from ..explain import Explainer
from ..predict import Predictor
from .certainty import uncertainty



class Busy(Exception):
    """The queue is full; ``retry_after`` seconds is a fair wait."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("the model is busy; try again shortly")
        self.retry_after = retry_after


class TimedOut(Exception):
    """A request waited and ran longer than the per-request timeout."""


class MemoryBudget:
    """Bytes that concurrent work may hold at once; a reservation waits until it fits (one
    larger than the whole budget waits for all others to finish, then runs alone)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._cond = threading.Condition()

    @contextmanager
    def reserve(self, nbytes: int) -> Iterator[None]:
        nbytes = min(max(0, nbytes), self.limit)
        with self._cond:
            self._cond.wait_for(lambda: self.used + nbytes <= self.limit)
            self.used += nbytes
        try:
            yield
        finally:
            with self._cond:
                self.used -= nbytes
                self._cond.notify_all()


class InferenceService:
    """Predictions, uncertainty, quality verdicts and heatmaps for uploads.

    Args:
        predictor: the loaded bundle.
        settings: the server's settings (:class:`~xraynet.serve.settings.ServeSettings`; its queue limit,
            timeout, decode workers and decode memory are used here).
        **overrides: fields of ``settings`` to replace, validated the same way.
    """

    def __init__(self, predictor: Predictor, settings: ServeSettings | None = None, **overrides) -> None:
        self.settings = replace(settings or ServeSettings(), **overrides)
        self.predictor = predictor
        self.explainer = Explainer(predictor)
        self.queue_limit = self.settings.queue_limit
        self.timeout_s = self.settings.timeout_s
        self.decode_budget = MemoryBudget(int(self.settings.decode_memory_mb * 1e6))
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="xraynet-model")
        self._decoders = ThreadPoolExecutor(max_workers=self.settings.decode_workers,
                                            thread_name_prefix="xraynet-decode")
        self._slots = threading.BoundedSemaphore(self.queue_limit + 1)
        self._lock = threading.Lock()
        self._in_flight = 0

    @classmethod
    def from_path(cls, path: str | Path, **kwargs) -> "InferenceService":
        return cls(Predictor.from_path(path), **kwargs)

    @property
    def in_flight(self) -> int:
        """Requests running or waiting for the model."""
        return self._in_flight

    def warm_up(self) -> None:
        """Compile the predict and Grad-CAM steps once, so the first request is not slow."""
        size = self.predictor.bundle.image_size
        blank = np.full((size, size), 128, np.uint8)
        self._executor.submit(self.analyse, blank, ImageFacts(size, size, "L"), "warm-up",
                              tta=0, explain="gradcam").result()

    async def submit(self, fn: Callable, *args, **kwargs):
        """Run ``fn(*args, **kwargs)`` on the model thread, admitted as :meth:`handle` does."""
        return await self.handle(lambda: args, lambda *ready: fn(*ready, **kwargs))

    async def handle(self, prepare: Callable[[], tuple], analyse: Callable):
        """Admit a request, or raise :class:`Busy` at once; then ``prepare()`` on the decode
        pool, then ``analyse(*prepared)`` on the model thread. Exceptions of either step
        propagate; :class:`TimedOut` after ``timeout_s`` in all."""
        if not self._slots.acquire(blocking=False):
            raise Busy(retry_after=max(1, round(self.timeout_s / 10)))
        with self._lock:
            self._in_flight += 1
        outcome: Future = Future()

        def prepared(step: Future) -> None:
            if step.cancelled() or step.exception() is not None:
                self._finish(outcome, step)
                return
            try:
                self._executor.submit(analyse, *step.result()).add_done_callback(
                    lambda done: self._finish(outcome, done))
            except RuntimeError as exc:  # the service is closing
                outcome.set_exception(exc)
                self._release()

        try:
            self._decoders.submit(prepare).add_done_callback(prepared)
        except RuntimeError as exc:
            self._release()
            raise TimedOut("the server is shutting down") from exc
        try:
            return await asyncio.wait_for(asyncio.wrap_future(outcome), self.timeout_s)
        except asyncio.TimeoutError as exc:
            raise TimedOut(f"no answer within {self.timeout_s:g} s") from exc

    def decode_upload(self, data: bytes, settings: DecodeSettings | None = None,
                      ) -> tuple[np.ndarray, ImageFacts]:
        """Decode one uploaded file within the memory budget: its cost is read from its header
        first, and the decode waits until that many bytes are free."""
        settings = settings or self.predictor.settings
        source = io.BytesIO(data)
        with self.decode_budget.reserve(decode_cost(source, settings)):
            return decode_with_facts(source, settings)

    def _finish(self, outcome: Future, step: Future) -> None:
        """Free the request's place, then hand its result on (so that an answered request is
        never still counted in flight)."""
        self._release()
        if step.cancelled():
            outcome.cancel()
        elif step.exception() is not None:
            outcome.set_exception(step.exception())
        else:
            outcome.set_result(step.result())

    def _release(self) -> None:
        with self._lock:
            self._in_flight -= 1
        self._slots.release()

    def analyse(self, image: np.ndarray, facts: ImageFacts, name: str, *, tta: int = 0,
                explain: str | None = None) -> dict:
        """The JSON answer for one decoded image (call on the model thread)."""
        [pred] = self.predictor.predict_images(image[None], [name], tta=tta, facts=[facts])
        out = {"name": name, "label": pred.label, "probabilities": pred.probabilities,
               "uncertainty": uncertainty(pred.probabilities, pred.std, reliable=pred.quality.ok),
               "quality": pred.quality.to_dict()}
        if pred.std is not None:
            out["uncertainty"]["tta"] = tta
            out["spread"] = pred.std
        if explain:
            k = self.predictor.class_names.index(pred.label)
            heatmap = self.explainer.class_maps(image[None], explain, np.array([k]))[0]
            out.update(explain_method=explain, heatmap_png_base64=png_base64(heatmap_rgb(heatmap)),
                       input_png_base64=png_base64(np.asarray(image, np.uint8).squeeze()))
        return out

    def close(self) -> None:
        self._decoders.shutdown(wait=False, cancel_futures=True)
        self._executor.shutdown(wait=False, cancel_futures=True)


def heatmap_rgb(heatmap: np.ndarray) -> np.ndarray:
    """A 0..1 heatmap as a jet-coloured ``(h, w, 3)`` uint8 image (red: most weight)."""
    from matplotlib import colormaps

    return colormaps["jet"](np.clip(heatmap, 0.0, 1.0), bytes=True)[..., :3]


def png_base64(pixels: np.ndarray) -> str:
    """A uint8 grey ``(h, w)`` or RGB ``(h, w, 3)`` image as base64 PNG."""
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(pixels, np.uint8)).save(buffer, format="PNG", compress_level=1)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
