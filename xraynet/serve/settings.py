"""How ``xraynet serve`` behaves: one :func:`~xraynet.config_schema.setting` field each, from which
its flags, help, ranges and defaults derive. A ``*Settings`` class, not a ``*Config``: a server's
settings are no part of a run's ``config.json`` (docs/configuration.md, the suffix rule). No Keras
or FastAPI import here."""

from __future__ import annotations

from dataclasses import dataclass

from ..config_schema import check, setting

__all__ = ["ServeSettings"]


@dataclass(frozen=True)
class ServeSettings:
    """How ``xraynet serve`` behaves (see :mod:`xraynet.serve`)."""

    host: str = setting("127.0.0.1", help="address to listen on (127.0.0.1: this machine only)")
    port: int = setting(8000, help="port", min=1, max=65535)
    max_upload_mb: float = setting(25.0, help="larger uploads are refused with 413", above=0)
    queue_limit: int = setting(8, help="requests that may wait for the model; beyond it 503 "
                               "with Retry-After, before the upload is decoded", flag="--queue",
                               min=1, max=10_000)
    timeout_s: float = setting(30.0, help="per-request limit in seconds; beyond it 504",
                               flag="--timeout", above=0)
    max_tta: int = setting(32, help="the most test-time augmentations one request may ask for",
                           flag="", min=0, max=1024)
    token: str | None = setting(None, help="require this bearer token on every request",
                                default_text="$XRAYNET_TOKEN when set")
    max_megapixels: float = setting(50.0, help="uploads with more pixels are refused with 422 "
                                    "before decoding (the largest chest detectors give about 18)",
                                    above=0, max=140)
    decode_workers: int = setting(2, help="uploads decoded at once", min=1, max=64)
    decode_memory_mb: float = setting(320.0, help="memory the uploads being decoded may take "
                                      "together; a larger one waits its turn (320: one "
                                      "139-megapixel 16-bit scan)", above=0)

    def __post_init__(self) -> None:
        check(self, section="serve")

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 2**20)
