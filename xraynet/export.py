"""Export a bundle for deployment: an ONNX model (onnxruntime) or a TensorFlow SavedModel (TF
Serving) that takes the decoded grayscale image and gives the bundle's calibrated probabilities,
with a description beside it (``<out>.json``): input and output spec, class names, temperature,
and the decoding a deployment must do before the model (:func:`~xraynet.data.decode_image`).

The exported graph is the bundle's model (preprocessing and normalisation inside it, augmentation
inactive) followed by :class:`TemperatureScaling`, so its output equals
:meth:`xraynet.Predictor.predict_arrays` (a test holds it to 1e-4 on every backend that exports).
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import keras
import numpy as np
from keras import layers, ops

from .backend import backend_name
from .bundle import Bundle, write_json
from .errors import XRayNetError
from .runs import EXPORT_DIR, export_description_path

log = logging.getLogger("xraynet")
#: export format -> Keras' name for it
KERAS_FORMATS = {"onnx": "onnx", "saved_model": "tf_saved_model"}
#: backend -> the packages its ONNX export needs (the ``export`` extra)
ONNX_PACKAGES = {"tensorflow": ("onnx", "tf2onnx"), "torch": ("onnx", "onnxscript")}
#: backend -> the backend whose converter exports its ONNX models: jax2onnx writes a MaxPool that
#: onnxruntime refuses ("Unsupported pooling size"), so under JAX the bundle (backend-agnostic)
#: is exported by TensorFlow's converter in a child process
ONNX_EXPORTER = {"jax": "tensorflow"}
EXPORT_EXTRA = "pip install 'xraynet[export]'"
INPUT_NAME, OUTPUT_NAME = "image", "probabilities"


@keras.saving.register_keras_serializable(package="xraynet")
class TemperatureScaling(layers.Layer):
    """Probabilities rescaled as if their logits were divided by ``temperature`` (what
    :func:`~xraynet.evaluation.apply_temperature` does, in the graph)."""

    def __init__(self, temperature: float = 1.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.temperature = float(temperature)

    def call(self, probabilities):
        logits = ops.log(ops.clip(probabilities, 1e-12, 1.0)) / self.temperature
        return ops.softmax(logits, axis=-1)

    def get_config(self) -> dict:
        return {**super().get_config(), "temperature": self.temperature}


def calibrated_model(bundle: Bundle) -> keras.Model:
    """The bundle's model with its temperature applied: raw grayscale ``(n, size, size, 1)``
    pixels in 0..255 -> calibrated probabilities."""
    size = bundle.image_size
    inputs = keras.Input((size, size, 1), name=INPUT_NAME, dtype="float32")
    probabilities = bundle.model(inputs, training=False)
    outputs = TemperatureScaling(bundle.temperature, name=OUTPUT_NAME)(probabilities)
    model = keras.Model(inputs, outputs, name=f"{bundle.model.name}_calibrated")
    model(np.zeros((1, size, size, 1), np.float32))  # built and called once: export traces it
    return model


def export_problems(fmt: str, backend: str | None = None) -> list[str]:
    """Why ``fmt`` cannot be exported on ``backend`` here (empty: it can)."""
    backend = backend or backend_name()
    if fmt == "saved_model" and backend not in ("tensorflow", "jax"):
        return [f"--format saved_model needs the tensorflow or jax backend (this is {backend}; "
                "KERAS_BACKEND=tensorflow xraynet export ...), or use --format onnx"]
    if fmt == "onnx":
        exporter = ONNX_EXPORTER.get(backend, backend)
        needs = ONNX_PACKAGES.get(exporter, ("onnx",)) + ((exporter,) if exporter != backend else ())
        missing = [p for p in needs if importlib.util.find_spec(p) is None]
        if missing:
            return [f"--format onnx on {backend} needs {', '.join(missing)}: {EXPORT_EXTRA}"
                    + (f" and pip install 'xraynet[{exporter}]'" if exporter in missing else "")]
    if fmt == "saved_model" and importlib.util.find_spec("tensorflow") is None:
        return [f"--format saved_model needs tensorflow: pip install 'xraynet[tensorflow]'"]
    return []


def default_export_path(bundle: Bundle, fmt: str) -> Path:
    """``RUN/export/model.onnx`` or ``RUN/export/saved_model``."""
    return bundle.directory / EXPORT_DIR / ("model.onnx" if fmt == "onnx" else "saved_model")


def describe_export(bundle: Bundle, fmt: str, path: Path) -> dict:
    """What a deployment needs to feed the exported model and read its output."""
    size, meta = bundle.image_size, bundle.meta
    return {
        "format": fmt, "file": path.name, "exported_with": {"backend": backend_name(),
                                                          "keras": keras.__version__},
        "model": {"run": bundle.directory.name, "architecture": meta.architecture,
                  "created": meta.created},
        "input": {"name": INPUT_NAME, "shape": [None, size, size, 1], "dtype": "float32",
                  "range": [0, 255], "layout": "NHWC, one grey channel"},
        "preprocessing": {
            "decode": "any image file or DICOM to 8-bit grayscale, then fitted to the square by "
                      f"'{meta.resize}' at {size} px: xraynet.data.decode_image(path, "
                      f"DecodeSettings(image_size={size}, resize='{meta.resize}'))",
            "image_size": size, "resize": meta.resize,
            "inside_the_model": "intensity normalisation (and the backbone's own), so the "
                                "input is raw 0..255 pixels; training augmentation inactive"},
        "output": {"name": OUTPUT_NAME, "shape": [None, len(bundle.class_names)],
                   "classes": bundle.class_names, "calibrated": True,
                   "temperature": bundle.temperature,
                   "meaning": "probability of each class, in the order of 'classes', with the "
                              "bundle's temperature applied (as xraynet predict gives them)"},
        "notice": "Not for clinical use: a research prototype, not a medical device.",
    }


def export_bundle(bundle: Bundle, fmt: str = "onnx", out: str | Path | None = None) -> Path:
    """Export ``bundle`` as ``fmt`` (``onnx`` or ``saved_model``) to ``out`` (default
    :func:`default_export_path`) and write its description beside it; returns the path.

    Raises:
        XRayNetError: the format cannot be exported on this backend or its packages are
            missing (one line each, saying what to do).
    """
    if fmt not in KERAS_FORMATS:
        raise XRayNetError(f"unknown export format {fmt!r} (one of {', '.join(KERAS_FORMATS)})")
    problems = export_problems(fmt)
    if problems:
        raise XRayNetError("\n".join(problems))
    path = Path(out).expanduser() if out else default_export_path(bundle, fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    exporter = ONNX_EXPORTER.get(backend_name()) if fmt == "onnx" else None
    if exporter is not None:
        return _export_in_child(bundle, fmt, path, exporter)
    model = calibrated_model(bundle)
    log.info("exporting %s as %s to %s", bundle.directory.name, fmt, path)
    try:
        model.export(str(path), format=KERAS_FORMATS[fmt], verbose=False)
    except Exception as exc:  # the converters raise many types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise XRayNetError(f"export to {fmt} failed on {backend_name()}: {first}") from exc
    write_json(export_description_path(path), describe_export(bundle, fmt, path))
    return path


def _export_in_child(bundle: Bundle, fmt: str, path: Path, backend: str) -> Path:
    """Export ``bundle`` with ``backend``'s converter in a child process (``xraynet export``
    under ``KERAS_BACKEND=backend``): a bundle loads on every backend."""
    import os
    import subprocess
    import sys

    log.info("exporting with %s's converter (%s's does not give a model onnxruntime runs)",
             backend, backend_name())
    env = {**os.environ, "KERAS_BACKEND": backend}
    proc = subprocess.run([sys.executable, "-m", "xraynet.cli", "-q", "export", str(bundle.directory),
                           "--format", fmt, "--out", str(path)], env=env, capture_output=True,
                          text=True)
    if proc.returncode != 0:
        errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
        raise XRayNetError(errors[0].removeprefix("error: ") if errors else
                           f"export to {fmt} with {backend} failed (exit {proc.returncode})")
    return path
