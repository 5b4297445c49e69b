"""Reading an upload into memory: a size cap while the body streams in, and a multipart parser
that never spills to disk (uploads are never written anywhere, nor kept)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import AsyncIterator


class UploadError(Exception):
    """A request whose upload cannot be read; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Upload:
    """One uploaded file, in memory. ``name`` is only ever shown, never opened."""

    name: str
    data: bytes


async def read_capped(chunks: AsyncIterator[bytes], limit: int, declared: str | None) -> bytes:
    """The request body, refused (413) as soon as it is known to exceed ``limit`` bytes: from
    its declared Content-Length, or while it streams in."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise UploadError(413, too_large(limit))
    body = bytearray()
    async for chunk in chunks:
        body.extend(chunk)
        if len(body) > limit:
            raise UploadError(413, too_large(limit))
    return bytes(body)


def too_large(limit: int) -> str:
    return f"upload larger than the limit of {limit / 2**20:g} MB"


def parse_upload(body: bytes, content_type: str | None, *, field: str = "file") -> Upload:
    """The file in multipart field ``field`` of ``body``, parsed in memory.

    Raises:
        UploadError: 400 when the body is not multipart or has no such file.
    """
    from python_multipart.multipart import FormParser, parse_options_header

    kind, params = parse_options_header(content_type or "")
    boundary = params.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise UploadError(400, f"send the image as multipart/form-data, in the field '{field}'")
    files = []
    parser = FormParser("multipart/form-data", on_field=None, on_file=files.append,
                        boundary=boundary,
                        config={"MAX_MEMORY_FILE_SIZE": float("inf"), "UPLOAD_KEEP_FILENAME": False})
    try:
        parser.write(body)
        parser.finalize()
    except Exception as exc:  # python-multipart raises its own errors for malformed bodies
        raise UploadError(400, f"malformed multipart body ({exc})") from exc
    for f in files:
        if (f.field_name or b"").decode("utf-8", "replace") == field:
            f.file_object.seek(0)
            name = (f.file_name or b"upload").decode("utf-8", "replace")
            return Upload(name=name, data=f.file_object.read())
    raise UploadError(400, f"no file in the multipart field '{field}'")
