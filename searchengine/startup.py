"""The first import of the engine in a process, as cheap as it goes.

A fresh ``newsearch query`` spends most of its time importing, and then
tearing down at exit what it imported. Five measures, each measured with
``benchmarks/startup.py``:

- Importing Whoosh imports modules a query never uses: ``urllib.request``
  (``whoosh.compat`` re-exports ``urlretrieve``, which Whoosh never calls),
  ``asyncio`` (through ``cached_property``, which asks it whether a property
  is a coroutine when the property is first read), ``whoosh.query``
  (Whoosh's query objects: its searcher imports them for methods we never
  call, and their import compiles the large regular expressions of English
  word variations), ``tempfile`` and ``random`` (to name the files it
  writes), ``calendar`` (to parse dates in Whoosh's query language),
  ``shutil`` (to copy files into a compound file, with ``bz2`` and
  ``lzma``), ``html`` (to escape highlights, with its entity tables), the
  English stemmer and phonetic code (``whoosh.lang.porter``,
  ``whoosh.lang.dmetaphone``), and Whoosh's highlighter
  (``whoosh.highlight``, which its searcher imports for its ``Results``:
  ours is :mod:`~searchengine.snippets`). Importing NumPy imports
  ``numpy.linalg`` and with it NumPy's typing aliases, a tenth of its
  import, for ``numpy.matrix`` and polynomial fits, ``ctypes`` for arrays'
  ``.ctypes``, and ``numpy._core._add_newdocs`` (and its ``_scalars``),
  which sets the docstrings of NumPy's C functions and types, 5 % of a fresh
  query, and ``textwrap`` and ``platform`` (to indent deprecation notices,
  and for ``numpy.show_runtime``). Importing click imports ``platform`` too,
  through ``uuid``, which asks ``platform.system()`` whether it runs on AIX
  or Linux: where ``os.uname`` exists, that is its ``sysname``, and ``uuid``
  is given that. Importing ``pathlib`` (with the engine) imports
  ``urllib.parse`` and ``ipaddress`` for ``Path.as_uri`` alone; the CLI no
  longer imports ``pathlib`` before the engine (the library's errors are
  imported with it). Those three save 4 % of a fresh query's instructions
  (22 M of 520 M, on the seed index and on OrangeSum). Each is imported with
  a stand-in for them: the importing module keeps the stand-in, which
  imports the real module the first time one of its names is used, so
  behaviour is unchanged, but for NumPy's docstrings: in a process started
  by ``newsearch``, which never shows them, they stay unset (importing
  ``numpy._core._add_newdocs`` sets them). The stand-ins are in
  ``sys.modules`` only while NumPy, click, or Whoosh and the engine, are
  imported, and only in a process that has imported neither it nor the real
  modules. After NumPy's import, ``numpy.ma`` (masked arrays, which NumPy
  imports on first use) stands in for itself the same way: ``numpy.unique``
  (and ``union1d``) asks ``numpy.ma.is_masked`` of every array, and
  importing ``numpy.ma`` to hear "no" (its classes, and the signatures and
  docstrings it builds with ``inspect`` and ``tokenize``) took 5 % of a
  fresh query at 10× OrangeSum (44 M instructions of 930 M). The stand-in
  answers for what has no ``_mask`` (no masked array exists before
  ``numpy.ma`` is imported) and asks the real module for the rest; any
  other name imports it, and ``import numpy.ma`` puts it in its place.
- Whoosh's term tables hash keys with ``hashlib.md5``, and ``hashlib``
  loads OpenSSL: Whoosh is given Python's own ``_md5.md5`` instead, the
  same digest.
- ``dataclasses`` writes the methods of each dataclass (``__init__``,
  ``__repr__``, ``__eq__``, ``__hash__``, and for a frozen one
  ``__setattr__`` and ``__delattr__``) as source text and compiles it, every
  time the class is made (3.6 M instructions for a frozen one, four fifths
  of them compiling; the engine makes 27). Kept, they save 8 % of a fresh
  query's instructions on the seed index. While the engine is
  imported, each text is compiled as ``exec`` would, once per installation,
  and its bytecode kept in ``__pycache__/dataclass-methods.<tag>.marshal``
  beside the modules' own, as Python keeps theirs: the same text gives the
  same code. A text not in the file (a changed class, another Python) is
  compiled, and the file rewritten with the texts of this import; where it
  cannot be read or written (or ``PYTHONDONTWRITEBYTECODE`` is set), each
  text is compiled as before. What making the classes still costs is 3 %
  of a fresh query (15 M instructions on the seed index), a sixth of it
  ``inspect.signature`` making a docstring for a class without one.
- A query reads the index's side file of glued words only if one of its
  words is rare enough to have glued alternatives
  (:meth:`~searchengine.glued.GluedPlan.alternatives`): parsing it is 4 %
  of a fresh query of common words on OrangeSum (27 M instructions of 704 M
  for ``réforme des retraites``).
- The garbage collector is off while click, and then the engine, are
  imported, and the objects imported (modules, classes, functions: they live
  as long as the process) are then frozen out of its later passes
  (:func:`gc.freeze`), which spares it examining them again and again, and,
  on the way out, taking them apart one by one (for click, 0.5 % of a fresh
  query: 3.4 M instructions on OrangeSum). Objects made later are collected
  as usual.
"""

from __future__ import annotations

import builtins
import dataclasses
import gc
import marshal
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import import_module
from importlib.util import MAGIC_NUMBER
from types import ModuleType
from typing import Any

_DEFERRED_BY_WHOOSH: dict[str, tuple[str, ...]] = {
    "urllib.request": ("urlretrieve",),
    "asyncio": (),
    "whoosh.query": (),
    "hashlib": ("md5",),
    "tempfile": (),
    "random": (),
    "calendar": (),
    "shutil": ("copyfileobj",),
    "html": ("escape",),
    "whoosh.lang.porter": ("stem",),
    "whoosh.lang.dmetaphone": ("double_metaphone",),
    "whoosh.highlight": (),
}
"""Each module deferred while Whoosh is imported, and the names its importers take from it with ``from ... import``."""
_DEFERRED_BY_NUMPY: dict[str, tuple[str, ...]] = {
    "numpy.linalg": ("matrix_power", "eigvals", "inv", "lstsq"),
    "ctypes": (),
    "numpy._core._add_newdocs": (),
    "numpy._core._add_newdocs_scalars": (),
    "textwrap": (),
    "platform": (),
}
"""Likewise while NumPy is imported."""
_DEFERRED_BY_CLICK: dict[str, tuple[str, ...]] = {"platform": ("system",)}
"""Likewise while click is imported."""
_DEFERRED_BY_PATHLIB: dict[str, tuple[str, ...]] = {"urllib.parse": ("quote_from_bytes",)}
"""Likewise while pathlib is imported."""
_EQUIVALENT: dict[tuple[str, str], Callable[[], Any]] = {
    ("hashlib", "md5"): lambda: import_module("_md5").md5,
    ("platform", "system"): lambda: _system if hasattr(os, "uname") else None,
}
"""Names of deferred modules that something cheap to import does as well (None where it does not)."""


def _system() -> str:
    """``platform.system()`` where ``os.uname`` exists: its ``sysname``
    ('unknown' read as ''), which is all ``platform`` makes of it there."""
    name = os.uname().sysname
    return "" if name == "unknown" else name


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


def _now(name: str, attribute: str) -> Any:
    """What does what ``attribute`` of module ``name`` does, if it is cheap to import (else None)."""
    equivalent = _EQUIVALENT.get((name, attribute))
    try:
        return equivalent() if equivalent else None
    except ImportError:  # a Python built without its own hashes
        return None


@contextmanager
def _standing_in(package: str, deferred: dict[str, tuple[str, ...]]) -> Iterator[None]:
    """Stand-ins for ``deferred`` while ``package`` is imported, if no one has imported it yet."""
    stand_ins: dict[str, ModuleType] = {}
    if package not in sys.modules:
        for name, attributes in deferred.items():
            if name not in sys.modules:
                module = stand_ins[name] = _StandIn(name)
                for attribute in attributes:
                    setattr(module, attribute, _now(name, attribute) or _later(module, attribute))
    sys.modules.update(stand_ins)
    try:
        yield
    finally:
        for name, stand_in in stand_ins.items():
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]


def _import_numpy() -> None:
    if "numpy" in sys.modules:
        return
    with _standing_in("numpy", _DEFERRED_BY_NUMPY):
        import numpy
    if "numpy.ma" not in sys.modules:  # NumPy imports it on the first ``numpy.ma``
        masked = _StandIn("numpy.ma")
        masked.is_masked = _is_masked  # type: ignore[attr-defined]
        numpy.ma = masked  # until ``import numpy.ma`` sets the real one


def _is_masked(value: Any) -> bool:
    """``numpy.ma.is_masked``, which ``numpy.unique`` asks of every array: only
    what has a ``_mask`` (a masked array, which only ``numpy.ma`` makes) may
    be masked, and for that the real module answers."""
    if not hasattr(value, "_mask"):
        return False
    return bool(import_module("numpy.ma").is_masked(value))


@contextmanager
def importing_click() -> Iterator[None]:
    """For the CLI's ``import click``, as the module docstring says."""
    with _standing_in("click", _DEFERRED_BY_CLICK), _collecting_after():
        yield
        gc.freeze()


@contextmanager
def _collecting_after() -> Iterator[None]:
    """The garbage collector off for what runs inside, then back on if it was on."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


_COMPILED = os.path.join(os.path.dirname(__file__), "__pycache__",
                         f"dataclass-methods.{sys.implementation.cache_tag}.marshal")
"""Where the bytecode of the dataclasses' methods is kept (see the module's docstring)."""


def _read_compiled() -> dict[str, Any]:
    """The kept bytecode by source text, if it was kept by this Python (empty if none, or unreadable)."""
    try:
        with open(_COMPILED, "rb") as fh:
            header, table = marshal.load(fh)
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    return table if header == (MAGIC_NUMBER, sys.flags.optimize) and isinstance(table, dict) else {}


def _write_compiled(table: dict[str, Any]) -> None:
    if sys.dont_write_bytecode:  # PYTHONDONTWRITEBYTECODE, -B: as for the modules' bytecode
        return
    temporary = f"{_COMPILED}.{os.getpid()}.tmp"
    try:
        with open(temporary, "wb") as fh:
            marshal.dump(((MAGIC_NUMBER, sys.flags.optimize), table), fh)
        os.replace(temporary, _COMPILED)
    except OSError:  # a read-only installation: compiled again next time
        try:
            os.remove(temporary)
        except OSError:
            pass


@contextmanager
def _compiling_once() -> Iterator[None]:
    """``dataclasses``' ``exec`` of its methods' source, each text compiled once (see the module's docstring)."""
    if hasattr(dataclasses, "exec"):  # someone else's: leave it alone
        yield
        return
    kept = _read_compiled()
    used: dict[str, Any] = {}

    def run(source: Any, globals: Any = None, locals: Any = None) -> None:
        if isinstance(source, str):
            code = kept.get(source)
            if code is None:  # as exec compiles it: no __future__ flags from here, the interpreter's -O
                code = compile(source, "<string>", "exec", dont_inherit=True)
            used[source] = source = code
        builtins.exec(source, globals, locals)

    dataclasses.exec = run  # type: ignore[attr-defined]  # found before the built-in by dataclasses' code
    try:
        yield
    finally:
        del dataclasses.exec  # type: ignore[attr-defined]
    if used.keys() - kept.keys():
        _write_compiled(used)  # what this import used: texts of older classes go


def import_engine() -> None:
    """Import ``searchengine.engine``, if no one has yet, as the module docstring says.

    For the CLI's commands that read the index, run from its one thread."""
    if "searchengine.engine" in sys.modules:
        return
    with _collecting_after():
        _import_numpy()
        with (_standing_in("whoosh", _DEFERRED_BY_WHOOSH), _standing_in("pathlib", _DEFERRED_BY_PATHLIB),
              _compiling_once()):
            import_module("searchengine.engine")
        gc.freeze()
