import asyncio

import pytest

from xraynet.serve.uploads import UploadError, parse_upload, read_capped

BOUNDARY = "xraynetboundary"


def _multipart(field: str, name: str, data: bytes) -> bytes:
    return (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{BOUNDARY}--\r\n".encode()


def test_an_upload_is_parsed_in_memory_with_its_name_as_given():
    data = bytes(range(256)) * 20000  # 5 MB of binary, beyond any spill-to-disk threshold
    upload = parse_upload(_multipart("file", "<b>x</b>.png", data),
                          f"multipart/form-data; boundary={BOUNDARY}")
    assert upload.data == data and upload.name == "<b>x</b>.png"


def test_bad_uploads_are_refused_with_a_status():
    with pytest.raises(UploadError) as err:
        parse_upload(b"{}", "application/json")
    assert err.value.status == 400
    with pytest.raises(UploadError) as err:
        parse_upload(_multipart("other", "a.png", b"x"), f"multipart/form-data; boundary={BOUNDARY}")
    assert err.value.status == 400 and "'file'" in err.value.message


def test_bodies_over_the_limit_are_refused_declared_or_streamed():
    async def chunks(n):
        for _ in range(n):
            yield b"x" * 1000

    with pytest.raises(UploadError) as err:
        asyncio.run(read_capped(chunks(1), 10_000, declared="20000"))
    assert err.value.status == 413
    with pytest.raises(UploadError) as err:  # a client that lies about (or omits) its length
        asyncio.run(read_capped(chunks(20), 10_000, declared=None))
    assert err.value.status == 413
    assert len(asyncio.run(read_capped(chunks(5), 10_000, declared="5000"))) == 5000
