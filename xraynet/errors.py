"""Errors that the CLI turns into a one-line message and exit code 2."""

from __future__ import annotations


class XRayNetError(Exception):
    """Base class for errors a user can fix (bad path, bad dataset layout, bad model file)."""


class DatasetError(XRayNetError):
    """The dataset folder is missing, incomplete or inconsistent."""


class BundleError(XRayNetError):
    """A saved model bundle is missing or unreadable."""
