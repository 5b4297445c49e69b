"""``xraynet serve``: a web page where clinicians drop an X-ray and see the diagnosis, how sure
the model is and where it looked, and the JSON API behind it (FastAPI; the ``serve`` extra).

Importing this package needs FastAPI only for :func:`create_app` (imported lazily). Its settings
are :class:`xraynet.serve.settings.ServeSettings`.
"""

from __future__ import annotations

from ..lazy import lazy_exports

__all__ = ["InferenceService", "create_app"]
__getattr__, __dir__ = lazy_exports(__name__, globals(), {"InferenceService": "service",
                                                          "create_app": "app"})
