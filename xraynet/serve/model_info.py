"""What the page's model panel and ``GET /api/model`` say about the loaded bundle."""

from __future__ import annotations

from pathlib import Path

from ..bundle import Bundle, read_json
from ..data.layouts import public_summary
from ..evaluation.external import read_external_sets
from ..runs import HTML_FILE, MODEL_CARD_FILE, TRUST_FILE
from ..reporting.contents import data_description

#: what the page says of inputs from populations a class was not trained on (the model card says more)
POPULATION_NOT_FLAGGED = ("An X-ray from another population (an adult's Normal X-ray, another "
                          "hospital's scanner) is not flagged: no measured signal tells an "
                          "input's age or source. Ask who the patient is.")
#: the run directory's documents the server offers read-only, when present
DOCUMENTS = (HTML_FILE, MODEL_CARD_FILE)


def _read_optional(directory: Path, name: str) -> dict:
    path = directory / name
    if not path.is_file():
        return {}
    try:
        return read_json(path, name, fix="re-run `xraynet report`")
    except Exception:  # a damaged optional file leaves its panel entry empty, not the server down
        return {}


def model_info(bundle: Bundle) -> dict:
    """Classes, input, training data, leak-free and external metrics with their 95% intervals,
    calibration, the quality gate, and the documents (``/run/<name>``)."""
    meta = bundle.meta
    directory = Path(bundle.directory) if bundle.directory else None
    trust = _read_optional(directory, TRUST_FILE) if directory else {}
    leak_free = trust.get("bootstrap", {}).get("test_leak_free", {})
    metrics = {k: leak_free[k] for k in ("accuracy", "macro_f1") if k in leak_free}
    if metrics:
        metrics["n"] = leak_free.get("_settings", {}).get("n")
    external = []
    for folder, summary in (read_external_sets(directory) if directory else []):
        ci = summary.get("metrics", {}).get("bootstrap", {})
        sources = {name: {"n": m.get("n"), "macro_f1": m.get("bootstrap", {}).get("macro_f1")}
                   for name, m in (summary.get("sources") or {}).items()}
        external.append({"name": summary.get("name", folder), "n": summary.get("metrics", {}).get("n"),
                         "evaluated": summary.get("evaluated"),
                         **{k: ci[k] for k in ("accuracy", "macro_f1") if k in ci},
                         "sources": sources, "worst_source": summary.get("worst_source")})
    documents = [name for name in DOCUMENTS if directory and (directory / name).is_file()]
    return {"name": directory.name if directory else "model", "classes": meta.class_names,
            "architecture": meta.architecture, "image_size": meta.image_size,
            "resize": meta.resize, "backend": meta.backend, "created": meta.created,
            "training_data": public_summary(meta.data), "leak_free_test": metrics, "external": external,
            "populations": {"by_class": data_description(meta.data).populations,
                            "sources": sorted(meta.data.get("sources") or {}),
                            "flagged": False, "why": POPULATION_NOT_FLAGGED},
            "temperature": meta.temperature, "quality_gate": meta.quality,
            "incomplete": list(bundle.missing),
            "documents": {name: f"/run/{name}" for name in documents},
            "notice": "Not for clinical use: a research prototype, not a medical device."}
