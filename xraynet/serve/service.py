"""The model behind the server: loaded once, run on one thread, behind a bounded queue.

Every backend's model is used by one dedicated thread, so concurrent requests never call it at
once (JAX, TensorFlow and torch models are not all safe to call from many threads); decoding,
which needs no model, runs in the request's own worker thread. At most ``queue_limit`` requests
wait beside the one running; beyond that a request is refused at once (:class:`Busy`), and one
that waits longer than ``timeout_s`` is answered with :class:`TimedOut` (its work, if started,
still finishes and frees its place).
"""

from __future__ import annotations

import asyncio
import base64
import io
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from ..data.decode import ImageFacts
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


class InferenceService:
    """Predictions, uncertainty, quality verdicts and heatmaps for decoded uploads.

    Args:
        predictor: the loaded bundle.
        queue_limit: requests that may wait while one runs (default 8).
        timeout_s: longest a request may wait and run, in seconds (default 30).
    """

    def __init__(self, predictor: Predictor, *, queue_limit: int = 8, timeout_s: float = 30.0) -> None:
        self.predictor = predictor
        self.explainer = Explainer(predictor)
        self.queue_limit = queue_limit
        self.timeout_s = timeout_s
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="xraynet-model")
        self._slots = threading.BoundedSemaphore(queue_limit + 1)
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
        """Run ``fn`` on the model thread; raises :class:`Busy` or :class:`TimedOut`."""
        if not self._slots.acquire(blocking=False):
            raise Busy(retry_after=max(1, round(self.timeout_s / 10)))
        with self._lock:
            self._in_flight += 1
        future = self._executor.submit(fn, *args, **kwargs)
        future.add_done_callback(self._release)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self.timeout_s)
        except asyncio.TimeoutError as exc:
            raise TimedOut(f"no answer within {self.timeout_s:g} s") from exc

    def _release(self, _future) -> None:
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
            heatmap = self.explainer.maps(image[None], explain, np.array([k]))[0]
            out.update(explain_method=explain, heatmap_png_base64=png_base64(heatmap_rgb(heatmap)),
                       input_png_base64=png_base64(np.asarray(image, np.uint8).squeeze()))
        return out

    def close(self) -> None:
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
