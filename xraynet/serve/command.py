"""``xraynet serve MODEL``: the web page and JSON API on uvicorn (added to the CLI through the
``xraynet.commands`` entry point; FastAPI and uvicorn come with the ``serve`` extra)."""

from __future__ import annotations

import argparse
from dataclasses import replace
import logging
import os
import time

from ..cli.arguments import add_setting_flags, settings_from_args
from .settings import ServeSettings
from ..errors import XRayNetError

log = logging.getLogger("xraynet")
#: environment variable that supplies the token when --token is not given
TOKEN_ENV = "XRAYNET_TOKEN"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def register(sub) -> dict:
    """Add ``serve`` to the CLI's sub-parsers; its handler."""
    p = sub.add_parser("serve", help="web page and JSON API: drop an X-ray, see the diagnosis, "
                       "how sure the model is and where it looked")
    p.add_argument("model", help="run directory of a saved model (or its model.keras)")
    add_setting_flags(p, ServeSettings, section="serve")
    return {"serve": run_serve}


def run_serve(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    try:
        import uvicorn
    except ImportError as exc:
        raise XRayNetError("xraynet serve needs FastAPI and uvicorn: pip install 'xraynet[serve]'") from exc
    from .app import create_app
    from .memory import return_large_buffers_to_the_os
    from .service import InferenceService

    settings = settings_from_args(args, ServeSettings, section="serve")
    settings = replace(settings, token=settings.token or os.environ.get(TOKEN_ENV) or None)
    if settings.host not in LOOPBACK and not settings.token:
        log.warning("warning: listening on %s without a token: anyone who can reach this port can "
                    "use the page (it has no login). Set --token or $%s.", settings.host, TOKEN_ENV)
    return_large_buffers_to_the_os()  # so that the decode budget bounds resident memory
    service = InferenceService.from_path(args.model, settings=settings)
    service.warm_up()
    app = create_app(service)
    log.info("model %s loaded and warmed up in %.1f s; serving http://%s:%d/ (Ctrl-C stops)",
             args.model, time.perf_counter() - started, settings.host, settings.port)
    try:
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    finally:
        service.close()
    return 0
