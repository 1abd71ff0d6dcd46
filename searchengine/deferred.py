"""Modules that Whoosh's import drags in but a query never uses, imported on first use instead.

Importing Whoosh imports ``urllib.request`` (``whoosh.compat`` re-exports
``urlretrieve``, which Whoosh never calls), ``asyncio`` (through
``cached_property``, which asks it whether a property is a coroutine when the
property is first read) and ``whoosh.lang.morph_en`` (English word variations,
a query type we never build, whose import compiles large regular expressions):
together about a third of the import time of a fresh ``newsearch query``.
:func:`whoosh_deferring` imports Whoosh with a stand-in for each: the
importing module keeps the stand-in, which imports the real module the first
time one of its names is used, so behaviour is unchanged. The stand-ins are
in ``sys.modules`` only while Whoosh is imported, in a process that has not
imported the real modules yet; the CLI calls it before anything else imports
Whoosh, from its one thread.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib import import_module
from types import ModuleType
from typing import Any

_DEFERRED: dict[str, tuple[str, ...]] = {
    "urllib.request": ("urlretrieve",),
    "asyncio": (),
    "whoosh.lang.morph_en": ("variations",),
}
"""Each deferred module, and the names its importers take from it with ``from ... import``."""


class _StandIn(ModuleType):
    """Stands for a module: the first use of one of its names imports it."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # the import system's own questions (``__path__``, ...)
            raise AttributeError(name)
        return getattr(_real(self.__name__, self), name)


def _real(name: str, stand_in: ModuleType) -> ModuleType:
    if sys.modules.get(name) is stand_in:
        del sys.modules[name]
    return import_module(name)


def _later(stand_in: ModuleType, attribute: str) -> Callable[..., Any]:
    """A function that imports the real module when called, and calls its ``attribute``."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(_real(stand_in.__name__, stand_in), attribute)(*args, **kwargs)

    call.__name__ = call.__qualname__ = attribute
    return call


def whoosh_deferring() -> None:
    """Import Whoosh's modules that a query uses, with the deferred modules stood in for."""
    stand_ins: dict[str, ModuleType] = {}
    if "whoosh" not in sys.modules:
        for name, attributes in _DEFERRED.items():
            if name not in sys.modules:
                module = stand_ins[name] = _StandIn(name)
                for attribute in attributes:
                    setattr(module, attribute, _later(module, attribute))
    sys.modules.update(stand_ins)
    try:
        import whoosh.fields
        import whoosh.index
        import whoosh.searching  # noqa: F401
    finally:
        for name, stand_in in stand_ins.items():
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]
