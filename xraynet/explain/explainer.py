"""Explanations of a saved model's predictions: heatmaps, overlay PNGs and a JSON summary."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..predict import Predictor
from ..runs import EXPLANATIONS_FILE, HEATMAPS_FILE
from .gradcam import GradCAM
from .heatmap import border_share
from .occlusion import occlusion_map
from .overlay import save_overlay

METHODS = ("gradcam", "occlusion")


@dataclass
class Explanation:
    """What the model predicted for one image, and where it looked (``heatmap`` in 0..1)."""

    source: str
    method: str
    label: str
    probability: float
    heatmap: np.ndarray = field(repr=False)
    border_share: float = float("nan")
    true_label: str | None = None
    figure: str | None = None

    def to_dict(self) -> dict:
        return {"source": self.source, "method": self.method, "label": self.label,
                "probability": round(self.probability, 6), "true_label": self.true_label,
                "border_share": round(self.border_share, 4), "figure": self.figure}


class Explainer:
    """Grad-CAM and occlusion maps for a :class:`~xraynet.predict.Predictor`'s model.

    Args:
        predictor: the loaded bundle (its calibrated probabilities label the figures).
        layer: Grad-CAM target layer in each (member) model (default ``"last_conv"``).
    """

    def __init__(self, predictor: Predictor, *, layer: str | None = None) -> None:
        self.predictor = predictor
        self.layer = layer or predictor.bundle.meta.gradcam_layer
        self._gradcam: GradCAM | None = None

    @classmethod
    def from_path(cls, path: str | Path) -> "Explainer":
        return cls(Predictor.from_path(path))

    @property
    def gradcam(self) -> GradCAM:
        if self._gradcam is None:
            self._gradcam = GradCAM(self.predictor.bundle.model, layer=self.layer)
        return self._gradcam

    def predicted_maps(self, images: np.ndarray, method: str,
                 class_indices: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Maps ``(n, size, size)`` and probabilities ``(n, k)``; by default each map explains
        the predicted class."""
        images = _as_batch(images)
        proba = self.predictor.predict_arrays(images)
        classes = proba.argmax(axis=1) if class_indices is None else class_indices
        return self.class_maps(images, method, classes), proba

    def class_maps(self, images: np.ndarray, method: str, class_indices: np.ndarray) -> np.ndarray:
        """Maps ``(n, size, size)`` in 0..1, each explaining the given class."""
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        images, classes = _as_batch(images), np.asarray(class_indices, dtype=int)
        if method == "gradcam":
            return self.gradcam.heatmaps(images, classes)
        return np.stack([occlusion_map(self.predictor.predict_arrays, image, int(c))
                         for image, c in zip(images, classes)])

    def explain_arrays(self, images: np.ndarray, *, methods: tuple[str, ...] = METHODS,
                       sources: list[str] | None = None,
                       true_labels: list[str | None] | None = None) -> list[Explanation]:
        """One :class:`Explanation` per image and method (figures not written)."""
        images = _as_batch(images)
        sources = sources or [f"image {i}" for i in range(len(images))]
        true_labels = true_labels or [None] * len(images)
        names = self.predictor.class_names
        proba = self.predictor.predict_arrays(images)  # once for every method
        predicted = proba.argmax(axis=1)
        found = []
        for method in methods:
            for src, heat, p, k, truth in zip(sources, self.class_maps(images, method, predicted), proba,
                                              predicted, true_labels):
                found.append(Explanation(src, method, names[k], float(p[k]), heat,
                                         border_share(heat), truth))
        return found

    def write_figures(self, images: np.ndarray, explanations: list[Explanation],
                      out_dir: str | Path, stems: list[str]) -> list[Explanation]:
        """An overlay PNG per explanation, named ``<stem>_<method>.png``; sets ``figure``."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        images = _as_batch(images)
        index = {src: i for i, src in enumerate(dict.fromkeys(e.source for e in explanations))}
        for e in explanations:
            i = index[e.source]
            path = out_dir / f"{stems[i]}_{e.method}.png"
            save_overlay(images[i], e.heatmap, path, method=e.method, label=e.label,
                         probability=e.probability, true_label=e.true_label, source=e.source)
            e.figure = path.name
        return explanations

    def explain_files(self, paths: list[str | Path], out_dir: str | Path, *,
                      methods: tuple[str, ...] = METHODS) -> tuple[list[Explanation], list[tuple[str, str]]]:
        """Decode, explain and write one overlay per image and method, ``explanations.json`` and
        the maps themselves (``heatmaps.npz``, keyed ``<stem>_<method>``); returns the
        explanations and ``(path, reason)`` of unreadable files."""
        batch, indices, failed = self.predictor.decode(paths)
        kept = [str(paths[i]) for i in indices]
        if not kept:
            return [], failed
        explanations = self.explain_arrays(batch, methods=methods, sources=kept)
        self.write_figures(batch, explanations, out_dir, _unique_stems(kept))
        np.savez_compressed(Path(out_dir) / HEATMAPS_FILE,
                            **{e.figure.removesuffix(".png"): e.heatmap for e in explanations})
        summary = {"model": str(self.predictor.bundle.directory),
                   "gradcam_layer": self.layer, "explanations": [e.to_dict() for e in explanations],
                   "skipped": [list(f) for f in failed]}
        (Path(out_dir) / EXPLANATIONS_FILE).write_text(json.dumps(summary, indent=2) + "\n")
        return explanations, failed


def _as_batch(images: np.ndarray) -> np.ndarray:
    x = np.asarray(images, dtype=np.float32)
    return x[..., None] if x.ndim == 3 else x


def _unique_stems(paths: list[str]) -> list[str]:
    """File stems for the figures; where two images share a stem (``Normal/0101.jpeg`` and
    ``Viral Pneumonia/0101.jpeg``), their folder names are put in front."""
    stems = [Path(p).stem for p in paths]
    named = [f"{Path(p).parent.name}_{s}" if stems.count(s) > 1 and Path(p).parent.name else s
             for p, s in zip(paths, stems)]
    out, seen = [], {}
    for name in named:
        name = name.replace(" ", "_")
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}-{seen[name]}")
    return out
