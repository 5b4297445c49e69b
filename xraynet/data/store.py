"""The on-disk store of decoded images: one raw ``uint8`` array file per dataset and decoding
settings, written chunk by chunk, read back in memory (small sets) or streamed (large ones).

Layout of ``<cache>/images-<key>/``:

- ``images.u8``: ``(n, size, size)`` uint8, row ``i`` = the ``i``-th file listed (memory-mappable
  with ``numpy.memmap``; written and read with ``os.pwrite``/``os.pread``, so its pages stay in
  the page cache rather than in the process's memory); unreadable files leave a zero row;
- ``chunks/<start>.json``: for each decoded chunk of files, their digests, difference hashes and
  the reasons of those skipped. An interrupted decode resumes from the chunks already written;
- ``complete.json``: written last, when every chunk is there.

Decoding ``n`` files needs memory for one chunk, not for ``n`` images; reading rows uses
``os.pread`` (thread-safe, and the pages stay in the page cache instead of the process's memory).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

log = logging.getLogger("xraynet")
IMAGES_FILE = "images.u8"
COMPLETE_FILE = "complete.json"
#: files per chunk: what one resumable step decodes (and holds in memory) at once
CHUNK = 512
#: below this many bytes a store is read whole into memory (fastest); above, streamed
IN_MEMORY_BYTES = 1 << 30

#: decodes one file: ``path -> (image (size, size) uint8, sha256 hex, dhash bool (256,))``,
#: raising ValueError (with the reason) for an unreadable one
DecodeFn = Callable[[Path], tuple[np.ndarray, str, np.ndarray]]


class RowReader:
    """Rows of ``images.u8`` read on demand (``reader[rows]`` like an array)."""

    def __init__(self, path: Path, n: int, size: int) -> None:
        self.path, self.n, self.size = path, n, size
        self.shape = (n, size, size)
        self.ndim = 3
        self._fd = os.open(path, os.O_RDONLY)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, rows) -> np.ndarray:
        rows = np.atleast_1d(np.asarray(rows, dtype=np.int64))
        row_bytes = self.size * self.size
        out = np.empty((len(rows), self.size, self.size), np.uint8)
        order = np.argsort(rows, kind="stable")  # read forward through the file
        for k in order:
            data = os.pread(self._fd, row_bytes, int(rows[k]) * row_bytes)
            out[k] = np.frombuffer(data, np.uint8).reshape(self.size, self.size)
        return out

    def __del__(self) -> None:
        try:
            os.close(self._fd)
        except (OSError, AttributeError):
            pass


@dataclass
class StoredImages:
    """What a complete store holds: the images (array or :class:`RowReader`), and per kept file
    its row, relative path, digest and hash; plus the skipped files and their reasons."""

    images: np.ndarray | RowReader
    rows: np.ndarray
    paths: list[str]
    sha256: list[str]
    dhash: np.ndarray
    skipped: list[list[str]]
    in_memory: bool


class ImageStore:
    """The store at ``directory`` for ``n`` files decoded to ``size`` x ``size``."""

    def __init__(self, directory: str | Path, *, n: int, size: int) -> None:
        self.directory, self.n, self.size = Path(directory), n, size

    @property
    def complete(self) -> bool:
        return (self.directory / COMPLETE_FILE).is_file()

    def build(self, rel_paths: list[str], files: list[Path], decode: DecodeFn, *,
              workers: int = 1, chunk: int = CHUNK) -> None:
        """Decode every file into the store, resuming after the chunks already written.

        One process at a time builds a store (an exclusive lock on the hidden file
        ``.<directory name>.lock`` beside it): another that asks for the same store meanwhile
        (parallel fits, a search's workers) waits, then finds it complete."""
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        with _exclusive(self.directory.with_name(f".{self.directory.name}.lock")):
            if not self.complete:
                self._build(rel_paths, files, decode, workers=workers, chunk=chunk)

    def _build(self, rel_paths: list[str], files: list[Path], decode: DecodeFn, *,
               workers: int, chunk: int) -> None:
        from concurrent.futures import ThreadPoolExecutor

        chunks_dir = self.directory / "chunks"
        chunks_dir.mkdir(parents=True, exist_ok=True)
        images_path = self.directory / IMAGES_FILE
        expected = self.n * self.size * self.size
        if not images_path.is_file() or images_path.stat().st_size != expected:
            with open(images_path, "wb") as fh:  # sparse: no memory or disk spent up front
                fh.truncate(expected)
            for stale in chunks_dir.glob("*.json"):
                stale.unlink()
        starts = [s for s in range(0, self.n, chunk) if not (chunks_dir / f"{s}.json").is_file()]
        done = self.n - sum(min(chunk, self.n - s) for s in starts)
        if done:
            log.info("resuming the decode: %d of %d files already in %s", done, self.n, self.directory)
        progress = _Progress(self.n, done)

        def work(i: int):
            try:
                return i, decode(files[i]), None
            except ValueError as exc:
                return i, None, str(exc)

        row_bytes = self.size * self.size
        fd = os.open(images_path, os.O_WRONLY)  # written with pwrite, never mapped: the pages
        # written stay in the page cache, not in this process's memory
        try:
            with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
                for start in starts:
                    stop = min(start + chunk, self.n)
                    record = {"start": start, "stop": stop, "sha256": [], "dhash": [], "skipped": []}
                    for i, decoded, reason in pool.map(work, range(start, stop)):
                        if decoded is None:
                            record["sha256"].append(None)
                            record["dhash"].append(None)
                            record["skipped"].append([rel_paths[i], reason])
                            continue
                        image, digest, hashed = decoded
                        os.pwrite(fd, np.ascontiguousarray(image, np.uint8).tobytes(), i * row_bytes)
                        record["sha256"].append(digest)
                        record["dhash"].append(np.packbits(hashed).tobytes().hex())
                    os.fdatasync(fd)  # the chunk's rows are on disk before its record says so
                    _write_json(chunks_dir / f"{start}.json", record)
                    progress.update(stop - start)
        finally:
            os.close(fd)
        self._finish(rel_paths, chunks_dir)

    def _finish(self, rel_paths: list[str], chunks_dir: Path) -> None:
        rows, paths, digests, hashes, skipped = [], [], [], [], []
        records = sorted((json.loads(p.read_text()) for p in chunks_dir.glob("*.json")),
                         key=lambda r: r["start"])
        for record in records:
            for offset, (digest, hashed) in enumerate(zip(record["sha256"], record["dhash"])):
                if digest is None:
                    continue
                i = record["start"] + offset
                rows.append(i)
                paths.append(rel_paths[i])
                digests.append(digest)
                hashes.append(hashed)
            skipped += record["skipped"]
        dhash = (np.unpackbits(np.frombuffer(bytes.fromhex("".join(hashes)), np.uint8)
                               ).reshape(len(hashes), -1).astype(bool)
                 if hashes else np.zeros((0, 256), bool))
        np.save(self.directory / "dhash.npy", dhash)
        _write_json(self.directory / COMPLETE_FILE, {"n": self.n, "size": self.size, "rows": rows,
                                                     "paths": paths, "sha256": digests,
                                                     "skipped": skipped})

    def load(self, *, in_memory: bool | None = None) -> StoredImages | None:
        """The complete store (None when incomplete; a damaged one is reported, removed and
        None returned). ``in_memory``: read it whole (default: when under 1 GiB)."""
        if not self.complete:
            return None
        try:
            meta = json.loads((self.directory / COMPLETE_FILE).read_text())
            dhash = np.load(self.directory / "dhash.npy")
            path = self.directory / IMAGES_FILE
            if path.stat().st_size != self.n * self.size * self.size or meta["n"] != self.n:
                raise ValueError(f"{IMAGES_FILE} does not hold {self.n} images")
            whole = in_memory if in_memory is not None else path.stat().st_size <= IN_MEMORY_BYTES
            images = (np.fromfile(path, np.uint8).reshape(self.n, self.size, self.size) if whole
                      else RowReader(path, self.n, self.size))
            return StoredImages(images, np.asarray(meta["rows"], np.int64), list(meta["paths"]),
                                list(meta["sha256"]), dhash.astype(bool), meta["skipped"], whole)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("warning: the decoded-image store %s is unreadable (%s): removed; the "
                        "images are decoded again", self.directory,
                        str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            shutil.rmtree(self.directory, ignore_errors=True)
            return None


class _Progress:
    """A progress bar on a terminal (Keras's), log lines elsewhere."""

    def __init__(self, total: int, done: int) -> None:
        self.total, self.done = total, done
        self.bar = None
        if sys.stderr.isatty() and total - done > 0:
            import keras

            self.bar = keras.utils.Progbar(total, unit_name="image")
            self.bar.update(done)
        self.step = max(1, total // 10)
        self.next_log = done + self.step

    def update(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(self.done)
        elif self.done >= self.next_log or self.done == self.total:
            log.info("  decoded %d/%d files", self.done, self.total)
            self.next_log = self.done + self.step


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``lock_path`` (POSIX ``flock``; elsewhere none)."""
    try:
        import fcntl
    except ImportError:  # Windows: no lock
        yield
        return
    with open(lock_path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def read_rows(images: np.ndarray | RowReader, rows: Sequence[int] | np.ndarray) -> np.ndarray:
    """Rows of a store's images, ``(k, size, size)`` uint8, whether in memory or streamed."""
    return images[np.asarray(rows, dtype=np.int64)]
