"""``xraynet serve MODEL``: the web page and JSON API on uvicorn (added to the CLI through the
``xraynet.commands`` entry point; FastAPI and uvicorn come with the ``serve`` extra)."""

from __future__ import annotations

import argparse
import logging
import os
import time

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
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    p.add_argument("--token", help=f"require this bearer token on every request (default: "
                   f"${TOKEN_ENV} when set)")
    p.add_argument("--max-upload-mb", type=float, default=25.0,
                   help="larger uploads are refused with 413 (default: 25)")
    p.add_argument("--queue", type=int, default=8,
                   help="requests that may wait for the model; beyond it 503 (default: 8)")
    p.add_argument("--timeout", type=float, default=30.0,
                   help="per-request limit in seconds; beyond it 504 (default: 30)")
    p.add_argument("--max-megapixels", type=float, default=50.0,
                   help="uploads with more pixels are refused with 422 before decoding (default: 50)")
    p.add_argument("--decode-workers", type=int, default=2,
                   help="uploads decoded at once (default: 2)")
    p.add_argument("--decode-memory-mb", type=float, default=320.0,
                   help="memory the uploads being decoded may take together; a larger one waits "
                   "its turn (default: 320, one 139-megapixel 16-bit scan)")
    return {"serve": run_serve}


def run_serve(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    try:
        import uvicorn
    except ImportError as exc:
        raise XRayNetError("xraynet serve needs FastAPI and uvicorn: pip install 'xraynet[serve]'") from exc
    from .app import ServeSettings, create_app
    from .memory import return_large_buffers_to_the_os
    from .service import InferenceService

    token = args.token or os.environ.get(TOKEN_ENV) or None
    if args.host not in LOOPBACK and not token:
        log.warning("warning: listening on %s without a token: anyone who can reach this port can "
                    "use the page (it has no login). Set --token or $%s.", args.host, TOKEN_ENV)
    for flag, value in (("--queue", args.queue), ("--decode-workers", args.decode_workers)):
        if value < 1:
            raise XRayNetError(f"{flag} must be at least 1, got {value}")
    settings = ServeSettings(max_upload_mb=args.max_upload_mb, queue_limit=args.queue,
                             timeout_s=args.timeout, token=token, max_megapixels=args.max_megapixels,
                             decode_workers=args.decode_workers, decode_memory_mb=args.decode_memory_mb)
    return_large_buffers_to_the_os()  # so that the decode budget bounds resident memory
    service = InferenceService.from_path(args.model, queue_limit=settings.queue_limit,
                                         timeout_s=settings.timeout_s,
                                         decode_workers=settings.decode_workers,
                                         decode_memory_mb=settings.decode_memory_mb)
    service.warm_up()
    app = create_app(service, settings)
    log.info("model %s loaded and warmed up in %.1f s; serving http://%s:%d/ (Ctrl-C stops)",
             args.model, time.perf_counter() - started, args.host, args.port)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    finally:
        service.close()
    return 0
