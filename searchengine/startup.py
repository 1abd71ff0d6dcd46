"""The first import of the engine in a process, as cheap as it goes.

A fresh ``newsearch query`` spends most of its time importing, and then
tearing down at exit what it imported. Two measures, each measured with
``benchmarks/startup.py``:

- Importing Whoosh imports ``urllib.request`` (``whoosh.compat`` re-exports
  ``urlretrieve``, which Whoosh never calls), ``asyncio`` (through
  ``cached_property``, which asks it whether a property is a coroutine when
  the property is first read) and ``whoosh.query`` (Whoosh's query objects:
  its searcher imports them for methods we never call, and their import
  compiles the large regular expressions of English word variations).
  Whoosh is imported with a stand-in for each: the importing module keeps
  the stand-in, which imports the real module the first time one of its
  names is used, so behaviour is unchanged. The
  stand-ins are in ``sys.modules`` only while Whoosh is imported, and only in
  a process that has imported neither Whoosh nor the real modules.
- The garbage collector is off while the engine is imported, and the objects
  imported (modules, classes, functions: they live as long as the process)
  are then frozen out of its later passes (:func:`gc.freeze`), which spares
  it examining them again and again, and, on the way out, taking them apart
  one by one. Objects made later are collected as usual.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from importlib import import_module
from types import ModuleType
from typing import Any

_DEFERRED: dict[str, tuple[str, ...]] = {
    "urllib.request": ("urlretrieve",),
    "asyncio": (),
    "whoosh.query": (),
}
"""Each deferred module, and the names its importers take from it with ``from ... import``."""


class _StandIn(ModuleType):
    """Stands for a module: the first use of one of its names imports it."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # the import system's own questions (``__path__``, ...)
            raise AttributeError(name)
        return getattr(_real(self), name)


def _real(stand_in: ModuleType) -> ModuleType:
    if sys.modules.get(stand_in.__name__) is stand_in:
        del sys.modules[stand_in.__name__]
    return import_module(stand_in.__name__)


def _later(stand_in: ModuleType, attribute: str) -> Callable[..., Any]:
    """A function that imports the real module when called, and calls its ``attribute``."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(_real(stand_in), attribute)(*args, **kwargs)

    call.__name__ = call.__qualname__ = attribute
    return call


def _import_whoosh() -> None:
    """Import the parts of Whoosh a query uses, the deferred modules stood in for."""
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


def import_engine() -> None:
    """Import ``searchengine.engine``, if no one has yet, as the module docstring says.

    For the CLI's commands that read the index, run from its one thread."""
    if "searchengine.engine" in sys.modules:
        return
    collecting = gc.isenabled()
    gc.disable()
    try:
        _import_whoosh()
        import_module("searchengine.engine")
        gc.freeze()
    finally:
        if collecting:
            gc.enable()
