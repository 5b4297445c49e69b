"""``xraynet serve``: a web page where clinicians drop an X-ray and see the diagnosis, how sure
the model is and where it looked, and the JSON API behind it (FastAPI; the ``serve`` extra).

Importing this package needs FastAPI only for :func:`create_app` (imported lazily).
"""

from __future__ import annotations

__all__ = ["InferenceService", "ServeSettings", "create_app"]


def __getattr__(name: str):
    if name in ("ServeSettings", "create_app"):
        from . import app

        return getattr(app, name)
    if name == "InferenceService":
        from .service import InferenceService

        return InferenceService
    raise AttributeError(name)
