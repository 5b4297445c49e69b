"""The FastAPI application: the page, the JSON API and the run's documents, read-only.

Endpoints: ``GET /`` (the page), ``POST /api/predict``, ``GET /api/model``, ``GET /api/health``,
``GET /run/<document>`` (the model's report and card), ``/docs`` (Swagger UI from the installed
``swagger-ui-py``: it works without internet, under the page's CSP) and ``/openapi.json``.
"""

from __future__ import annotations

import asyncio
import hmac
from dataclasses import replace
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from .. import __version__
from .settings import ServeSettings
from ..data.decode import ImageDecodeError
from ..explain import METHODS
from .model_info import DOCUMENTS, model_info
from .service import Busy, InferenceService, TimedOut
from .uploads import UploadError, parse_upload, read_capped

#: formats the page and the API accept (what Pillow decodes, and DICOM with pydicom)
ACCEPTED_FORMATS = "JPEG, PNG, DICOM (also BMP, TIFF, WebP)"
#: the page's own files, shipped in the package
PAGE_FILES = {"page.js": "text/javascript", "page.css": "text/css", "docs.js": "text/javascript"}
#: Swagger UI's files, served from the installed swagger-ui-py package (the ``serve`` extra;
#: Swagger UI 5, which reads the OpenAPI 3.1 that FastAPI writes)
DOCS_ASSETS = {"swagger-ui.css": "text/css", "swagger-ui-bundle.js": "text/javascript"}
#: the run directory's figures the report and the card show (served read-only)
RUN_SUFFIXES = {".png": "image/png", ".html": "text/html; charset=utf-8",
                ".md": "text/plain; charset=utf-8"}
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
            "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'")
#: the report is static HTML with an inline stylesheet and no script
REPORT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
              "frame-ancestors 'none'; base-uri 'none'")
TOKEN_COOKIE = "xraynet_token"
#: seconds a refused (503) request is held before its answer: no CPU is spent meanwhile, and a
#: client that ignores Retry-After and retries at once cannot turn refusals into a busy loop
#: that starves the model of CPU
REFUSAL_PAUSE_S = 0.25


def _error(status: int, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status, headers=headers or None)


def _authorised(request: Request, token: str) -> bool:
    header = request.headers.get("authorization", "")
    offered = header[7:] if header.lower().startswith("bearer ") else request.cookies.get(TOKEN_COOKIE, "")
    if request.url.path == "/" and "token" in request.query_params:
        offered = request.query_params["token"]
    return hmac.compare_digest(offered.encode(), token.encode())


def create_app(service: InferenceService, settings: ServeSettings | None = None) -> FastAPI:
    """The application around a loaded :class:`~.service.InferenceService`: the guard
    (token, security headers), the page, the JSON API and the run directory's documents."""
    settings = settings or service.settings
    bundle = service.predictor.bundle
    run_dir = Path(bundle.directory).resolve() if bundle.directory else None
    app = FastAPI(title="xraynet", version=__version__,
                  description="Chest X-ray classifier (Covid-19, Viral Pneumonia, Normal). "
                              "Not for clinical use.", docs_url=None, redoc_url=None)
    app.state.service = service
    _add_guard(app, settings)
    _add_page(app)
    _add_api(app, service, settings, run_dir)
    _add_run_documents(app, run_dir)
    return app


def _add_guard(app: FastAPI, settings: ServeSettings) -> None:
    """Every response: the bearer token checked where one is set, and the security headers."""

    @app.middleware("http")
    async def guard(request: Request, call_next):
        if settings.token and not _authorised(request, settings.token):
            response = _error(401, "a bearer token is required (Authorization: Bearer TOKEN)",
                              **{"WWW-Authenticate": "Bearer"})
        else:
            response = await call_next(request)
            if settings.token and request.url.path == "/" and "token" in request.query_params:
                response.set_cookie(TOKEN_COOKIE, settings.token, httponly=True, samesite="strict")
        path = request.url.path
        csp = REPORT_CSP if path.startswith("/run/") else PAGE_CSP
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response


def _add_page(app: FastAPI) -> None:
    """The page, its static files and the API's documentation page."""

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    def page() -> Response:
        return Response(_page_file("index.html"), media_type="text/html; charset=utf-8")

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        if name not in PAGE_FILES:
            return _error(404, "not found")
        return Response(_page_file(name), media_type=PAGE_FILES[name])

    @app.get("/docs", include_in_schema=False)
    def docs() -> Response:
        return Response(_page_file("docs.html"), media_type="text/html; charset=utf-8")

    @app.get("/docs/assets/{name}", include_in_schema=False)
    def docs_asset(name: str) -> Response:
        found = _docs_asset(name)
        if found is None:
            return _error(404, "not found (the API page needs swagger-ui-py: "
                               "pip install 'xraynet[serve]')")
        return FileResponse(found, media_type=DOCS_ASSETS[name])


def _add_api(app: FastAPI, service: InferenceService, settings: ServeSettings,
             run_dir: Path | None) -> None:
    """``/api/health``, ``/api/model`` and ``/api/predict`` (admission, decoding, analysis)."""
    bundle = service.predictor.bundle
    decode_settings = replace(service.predictor.settings, max_pixels=min(
        service.predictor.settings.max_pixels, int(settings.max_megapixels * 1e6)))

    @app.get("/api/health", summary="Liveness, and how busy the model is")
    def health() -> dict:
        return {"status": "ok", "model": run_dir.name if run_dir else None,
                "backend": bundle.meta.backend, "in_flight": service.in_flight,
                "queue_limit": settings.queue_limit}

    @app.get("/api/model", summary="The model: classes, data, metrics with intervals, documents")
    def model() -> dict:
        return model_info(bundle)

    @app.post("/api/predict", summary="Diagnose one X-ray",
              openapi_extra={"requestBody": {"required": True, "content": {
                  "multipart/form-data": {"schema": {
                      "type": "object", "required": ["file"],
                      "properties": {"file": {"type": "string", "format": "binary"}}}}}}},
              responses={413: {"description": "upload too large"},
                         422: {"description": "not a readable image, or too many pixels"},
                         503: {"description": "queue full; see Retry-After"},
                         504: {"description": "no answer within the timeout"}})
    async def predict(request: Request,
                      explain: bool = Query(False, description="add a heatmap of where the model looked"),
                      method: str = Query("gradcam", description=f"heatmap method: {', '.join(METHODS)}"),
                      tta: int = Query(0, ge=0, le=settings.max_tta,
                                       description="test-time augmentations (0: none)")):
        if method not in METHODS:
            return _error(422, f"method must be one of {', '.join(METHODS)}")
        content_type = request.headers.get("content-type")
        try:
            body = await read_capped(request.stream(), settings.max_upload_bytes,
                                     request.headers.get("content-length"))
        except UploadError as exc:
            return _error(exc.status, exc.message)

        def prepare():  # on the decode pool, once the request is admitted
            upload = parse_upload(body, content_type)
            image, facts = service.decode_upload(upload.data, decode_settings)
            return image, facts, upload.name

        def analyse(image, facts, name):  # on the model thread
            return service.analyse(image, facts, name, tta=tta, explain=method if explain else None)

        try:
            return await service.handle(prepare, analyse)
        except Busy as exc:
            await asyncio.sleep(REFUSAL_PAUSE_S)
            return _error(503, str(exc), **{"Retry-After": str(exc.retry_after)})
        except UploadError as exc:
            return _error(exc.status, exc.message)
        except ImageDecodeError as exc:
            return _error(422, f"{exc}; accepted formats: {ACCEPTED_FORMATS}")
        except TimedOut as exc:
            return _error(504, str(exc))


def _add_run_documents(app: FastAPI, run_dir: Path | None) -> None:
    """The run directory's report files, read-only (``/run/<name>``)."""

    @app.get("/run/{path:path}", include_in_schema=False)
    def run_file(path: str) -> Response:
        found = _run_path(run_dir, path)
        if found is None:
            return _error(404, "not found")
        return FileResponse(found, media_type=RUN_SUFFIXES[found.suffix])


def _page_file(name: str) -> bytes:
    return resources.files("xraynet.serve").joinpath("page", name).read_bytes()


def _docs_asset(name: str) -> Path | None:
    """Swagger UI's file ``name`` from the installed swagger-ui-py (found without importing
    it), or None."""
    from importlib.util import find_spec

    spec = find_spec("swagger_ui") if name in DOCS_ASSETS else None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "static" / name
    return path if path.is_file() else None


def _run_path(run_dir: Path | None, path: str) -> Path | None:
    """``path`` inside ``run_dir`` when it is a document or a figure the report shows; None for
    anything else (the model's weights, configs, anything outside the run directory)."""
    if run_dir is None:
        return None
    candidate = (run_dir / path).resolve()
    if not candidate.is_relative_to(run_dir) or not candidate.is_file():
        return None
    if candidate.suffix == ".png" or (candidate.parent == run_dir and candidate.name in DOCUMENTS):
        return candidate
    return None
