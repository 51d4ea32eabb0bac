"""Installed package versions: what a saved model records and what Dask workers must share."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import metadata


def package_versions(names: Iterable[str], missing: str = "unknown") -> dict[str, str]:
    """name -> installed version of each package (`missing` for one that is not installed)."""
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = missing
    return found
