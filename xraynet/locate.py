"""Where the dataset is looked for, and the optional download through kagglehub."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import DatasetError

__all__ = ["DATASET_NAME", "default_locations", "download_dataset", "ENV_VAR", "KAGGLE_HANDLE",
           "resolve_data_dir"]

DATASET_NAME = "Covid19-dataset"
KAGGLE_HANDLE = "pranavraikokte/covid19-image-dataset"
ENV_VAR = "XRAYNET_DATA"


def default_locations() -> list[Path]:
    """Folders tried in order when neither ``--data`` nor ``$XRAYNET_DATA`` is given."""
    return [Path("data") / DATASET_NAME, Path("..") / "shared" / "data" / DATASET_NAME,
            Path.home() / ".cache" / "xraynet" / "datasets" / DATASET_NAME]


def resolve_data_dir(flag: str | Path | None = None) -> Path:
    """The dataset folder: the flag, else ``$XRAYNET_DATA``, else the first default that exists."""
    if flag:
        return Path(flag).expanduser()
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    for candidate in default_locations():
        if candidate.is_dir():
            return candidate
    tried = ", ".join(str(p) for p in default_locations())
    raise DatasetError(f"no dataset found (tried {tried}); pass --data DIR, set {ENV_VAR}, "
                       "or run 'xraynet download'")


def download_dataset(dest: str | Path | None = None) -> Path:
    """Download the Kaggle dataset with kagglehub and return its ``Covid19-dataset`` folder.

    Raises:
        DatasetError: kagglehub missing, or the download failed (offline, no credentials).
    """
    try:
        import kagglehub
    except ImportError as exc:
        raise DatasetError("the download needs kagglehub: pip install 'xraynet[download]'") from exc
    if dest is not None:
        os.environ.setdefault("KAGGLEHUB_CACHE", str(Path(dest).expanduser()))
    try:
        path = Path(kagglehub.dataset_download(KAGGLE_HANDLE))
    except Exception as exc:  # kagglehub raises requests/OS errors of many kinds
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DatasetError(f"download of {KAGGLE_HANDLE} failed (offline or no Kaggle access?): "
                           f"{first}") from exc
    found = [p for p in [path, *path.rglob(DATASET_NAME)] if (p / "train").is_dir()]
    if not found:
        raise DatasetError(f"downloaded {KAGGLE_HANDLE} to {path}, but no train/ folder was found")
    return found[0]
