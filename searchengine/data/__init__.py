"""Data files shipped with the package: the stop words and the name table."""

from __future__ import annotations

import pkgutil


def read_text(name: str) -> str:
    """The shipped file ``name``, read through the package's loader as
    ``importlib.resources`` would, without importing it (and its readers,
    which import ``zipfile``) into every query."""
    data = pkgutil.get_data(__name__, name)
    if data is None:
        raise FileNotFoundError(name)
    return data.decode("utf-8")
