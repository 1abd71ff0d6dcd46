"""A fresh `newsearch query` imports what a query uses and nothing more.

How long start-up takes is measured by ``benchmarks/startup.py``, never
asserted: these tests check which modules a query imports, so that a change
that drags the indexer, the web server or what Whoosh imports for nothing
back into every query fails here.
"""

import datetime as dt
import json
import os
import subprocess
import sys

import pytest
import whoosh.index
import whoosh.writing
from whoosh import columns, fields

from searchengine.whooshformat import StoredFields
from tests.conftest import ROOT

_RUN = """
import json, sys
sys.argv = ["newsearch", *sys.argv[1:]]
from searchengine.cli import cli
try:
    cli()
except SystemExit as exc:
    status = exc.code
print()
import gc
print(json.dumps({"status": status, "modules": sorted(sys.modules), "collecting": gc.isenabled(),
                  "frozen": gc.get_freeze_count()}))
"""

NOT_FOR_A_QUERY = {
    "urllib.request": "imported by whoosh.compat for urlretrieve, which Whoosh never calls",
    "http.client": "urllib.request's",
    "email.parser": "urllib.request's",
    "asyncio": "imported by cached_property to test for coroutines",
    "whoosh.query": "Whoosh's query objects, which its searcher imports for methods we never call",
    "hashlib": "loads OpenSSL; Whoosh's term tables get Python's own md5",
    "_hashlib": "hashlib's OpenSSL",
    "tempfile": "imported by Whoosh's storage to make temporary folders, which a query never does",
    "random": "imported by Whoosh to name the files it writes (and by tempfile)",
    "calendar": "imported by Whoosh's date parsing, for its query language",
    "shutil": "imported by Whoosh's compound files to copy files into one, which a query never does",
    "bz2": "shutil's",
    "html.entities": "imported by whoosh.compat for html.escape, which Whoosh's highlighter calls",
    "whoosh.lang.porter": "Whoosh's English stemmer",
    "whoosh.lang.dmetaphone": "Whoosh's English phonetic code",
    "whoosh.highlight": "Whoosh's highlighter, for its searcher's Results (ours is searchengine.snippets)",
    "numpy._core._add_newdocs": "the docstrings of NumPy's C functions, which a command never shows",
    "numpy.ma": "masked arrays, imported by numpy.unique only to ask whether an array is one",
    "numpy._core._add_newdocs_scalars": "likewise for NumPy's scalar types",
    "searchengine.facets": "the search page's facets",
    "numpy.linalg": "imported by numpy.matrix and polynomial fits, with NumPy's typing aliases",
    "numpy._typing": "numpy.linalg's",
    "ctypes": "imported by NumPy for arrays' .ctypes",
    "textwrap": "imported by NumPy to indent the docstrings of deprecated functions",
    "platform": "imported by uuid (click's) to test for AIX, and by NumPy for show_runtime",
    "urllib.parse": "imported by pathlib for Path.as_uri",
    "ipaddress": "urllib.parse's",
    "importlib.resources": "its readers import zipfile; two small data files are read without it",
    "searchengine.articles": "the article readers",
    "searchengine.fastwriter": "the index writer",
    "searchengine.webpages": "the HTML reader",
    "searchengine.server": "newsearch serve",
    "bs4": "the HTML reader's",
    "multiprocessing": "the writer's workers",
    "starlette": "newsearch serve's",
    "jinja2": "newsearch serve's",
}


def fresh(*args: str, code: str = _RUN) -> tuple[str, dict]:
    """Run ``newsearch ARGS`` in a fresh interpreter: its output, and its exit status and modules."""
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    output, _, last = done.stdout.rstrip("\n").rpartition("\n")
    return output, json.loads(last)


def test_fresh_query_imports_nothing_a_query_does_not_use(engine, tmp_path):
    output, run = fresh("query", "Kim Poutine", "--index-dir", str(tmp_path / "index"), "--color", "never")
    assert run["status"] == 0
    assert "1. Sommet à Vladivostok" in output
    assert "Poutine" in output
    imported = {name: why for name, why in NOT_FOR_A_QUERY.items() if name in run["modules"]}
    assert imported == {}


def test_fresh_query_leaves_what_it_imported_out_of_garbage_collection(engine, tmp_path):
    """The modules' objects live as long as the process: the collector, on
    for what the query makes, no longer examines them nor takes them apart
    at exit."""
    _, run = fresh("query", "Kim Poutine", "--index-dir", str(tmp_path / "index"))
    assert run["collecting"] is True
    assert run["frozen"] > 10_000


def test_importing_the_cli_leaves_click_out_of_garbage_collection():
    """Likewise for click, which every command imports; the collector is on after."""
    code = "import gc, searchengine.cli; print(gc.isenabled(), gc.get_freeze_count() > 5_000)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "True"]


def test_deferred_modules_are_imported_on_first_use(engine, tmp_path):
    """What Whoosh's and NumPy's modules hold of the deferred ones imports the
    real module the first time it is used, and then behaves as the real thing."""
    article = str(tmp_path / "articles" / "sommet.txt")
    code = _RUN + f"ARTICLE = {article!r}" + """
import cached_property, whoosh.compat, whoosh.index, whoosh.util, whoosh.util.times, whoosh.filedb.filestore
import whoosh.filedb.filetables, whoosh.filedb.compound, whoosh.analysis.morph, whoosh.searching
import numpy, io, pathlib, uuid
import numpy.lib._utils_impl
async def coroutine(): pass
def ctypes_pointer():
    import ctypes
    return ctypes.POINTER(ctypes.c_int64)
deferred = ("asyncio", "whoosh.query", "urllib.request", "tempfile", "random", "calendar", "numpy.linalg", "ctypes",
            "shutil", "html", "whoosh.lang.porter", "whoosh.lang.dmetaphone", "numpy._core._add_newdocs", "textwrap",
            "platform", "urllib.parse", "whoosh.highlight", "numpy.ma")
before = {name: name in sys.modules for name in deferred}
united = numpy.union1d(numpy.array([3, 1]), numpy.array([1, 2])).tolist()  # asks numpy.ma whether they are masked
united_unmasked = "numpy.ma" not in sys.modules
masked = numpy.unique(numpy.ma.masked_equal([0, 1, 0, 2, 1], 0)).tolist()
documented = numpy.ndarray.__doc__ is not None
coroutine_seen = cached_property.asyncio.iscoroutinefunction(coroutine)
with whoosh.index.open_dir(sys.argv[sys.argv.index("--index-dir") + 1], indexname="newsearch").searcher() as s:
    (number,) = s.document_numbers(title="vladivostok")  # Whoosh's searcher builds query.Term and query.And
    found = s.reader().column_reader("id")[number]  # ids are in their column
temporary = whoosh.filedb.filestore.tempfile.gettempdir()
name = whoosh.util.random_name(8)
days = whoosh.util.times.calendar.monthrange(2024, 2)[1]
square = (numpy.matrix([[1, 1], [0, 1]]) ** 3).tolist()
fit = numpy.polyfit([0, 1, 2], [1, 3, 5], 1).round(6).tolist()
pointer = numpy.arange(3, dtype=numpy.int64).ctypes.data_as(ctypes_pointer()).contents.value
copied = io.BytesIO()
whoosh.filedb.compound.copyfileobj(io.BytesIO(b"Poutine"), copied)
escaped = whoosh.compat.htmlescape("<b>Kim & Poutine</b>")
stemmed = whoosh.analysis.morph.stem("meetings")
sounds = whoosh.analysis.morph.double_metaphone("Smith")
highlight = whoosh.searching.highlight
highlighted = highlight.highlight("Kim rencontre Poutine", frozenset(["poutine"]), whoosh.analysis.SimpleAnalyzer(),
                                  highlight.WholeFragmenter(), highlight.UppercaseFormatter())
linux = uuid._LINUX
uri = pathlib.PurePosixPath("/tmp/Corée du Nord").as_uri()
indented = numpy.lib._utils_impl.textwrap.indent("Kim", "  ")
machine = numpy.lib._utils_impl.platform.uname().system
import numpy._core._add_newdocs
import urllib.request, hashlib, tempfile, platform
print(json.dumps({
    "before": before,
    "after": {name: name in sys.modules for name in deferred},
    "real": all(hasattr(sys.modules[name], "__file__") for name in deferred),
    "coroutine": coroutine_seen,
    "document": found,
    "urlretrieve": whoosh.compat.urlretrieve.__name__ == "urlretrieve" and hasattr(urllib.request, "urlopen"),
    "temporary": temporary == tempfile.gettempdir(),
    "name": len(name),
    "days": days,
    "square": square,
    "fit": fit,
    "pointer": pointer,
    "copied": copied.getvalue().decode(),
    "escaped": escaped,
    "stemmed": stemmed,
    "sounds": list(sounds),
    "highlighted": highlighted,
    "linux": linux == (platform.system() == "Linux") and machine == platform.system(),
    "uri": uri,
    "indented": indented,
    "documented": [documented, numpy.ndarray.__doc__ is not None],
    "md5": whoosh.filedb.filetables.md5_hash(b"Poutine") == int(hashlib.md5(b"Poutine").hexdigest(), 16) & 0xFFFFFFFF,
    "united": [united, united_unmasked],
    "masked": masked,
}))
"""
    output, checks = fresh("query", "Kim Poutine", "--index-dir", str(tmp_path / "index"), code=code)
    assert "Sommet à Vladivostok" in output
    deferred = ("asyncio", "whoosh.query", "urllib.request", "tempfile", "random", "calendar", "numpy.linalg",
                "ctypes", "shutil", "html", "whoosh.lang.porter", "whoosh.lang.dmetaphone", "numpy._core._add_newdocs",
                "textwrap", "platform", "urllib.parse", "whoosh.highlight", "numpy.ma")
    assert checks == {"before": dict.fromkeys(deferred, False), "after": dict.fromkeys(deferred, True),
                      "real": True, "coroutine": True, "document": article, "urlretrieve": True,
                      "temporary": True, "name": 8, "days": 29, "square": [[1, 3], [0, 1]], "fit": [2.0, 1.0],
                      "pointer": 0, "copied": "Poutine", "escaped": "&lt;b&gt;Kim &amp; Poutine&lt;/b&gt;",
                      "stemmed": "meet", "sounds": ["SM0", "XMT"],
                      "highlighted": "Kim rencontre POUTINE", "linux": True, "uri": "file:///tmp/Cor%C3%A9e%20du%20Nord",
                      "indented": "  Kim", "documented": [False, True], "md5": True,
                      "united": [[1, 2, 3], True], "masked": [1, 2, None]}


_DATACLASSES = """
import dataclasses, inspect, json, sys
compiled = []
sys.addaudithook(lambda event, args: compiled.append(bytes(args[0]).decode() if isinstance(args[0], bytes) else
                                                    str(args[0])) if event == "compile" else None)
if sys.argv[1] == "cli":
    from searchengine.startup import import_engine
    import_engine()
else:
    import searchengine.engine
made = {}
for name, module in sorted(sys.modules.items()):
    for cls in vars(module).values() if name.startswith("searchengine.") else ():
        if isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == name:
            methods = ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__")
            made[cls.__qualname__] = [str(inspect.signature(cls)), repr(cls.__init__.__annotations__),
                                      *(getattr(cls, m).__code__.co_code.hex() for m in methods
                                        if hasattr(getattr(cls, m, None), "__code__"))]
print(json.dumps({"made": made, "compiled": sum(text.startswith("def __create_fn__") for text in compiled)}))
"""


def test_the_dataclasses_methods_are_compiled_once_and_are_what_dataclasses_compiles():
    """A command imports the engine with the bytecode of its dataclasses'
    methods kept from an earlier run: it compiles none of them, and the
    classes are those a plain import makes, method for method."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}

    def run(how):
        done = subprocess.run([sys.executable, "-c", _DATACLASSES, how], cwd=ROOT, capture_output=True, text=True,
                              check=True, env=env)
        return json.loads(done.stdout)

    plain = run("library")
    run("cli")  # keeps what it compiled, if it was not kept yet
    kept = run("cli")
    assert kept["made"] == plain["made"] and len(plain["made"]) >= 20
    assert plain["compiled"] >= 100
    assert kept["compiled"] == 0


@pytest.mark.parametrize("cutoff", [2, 2**15], ids=["offsets-written", "offsets-summed"])
def test_stored_fields_and_ids_read_at_open_are_what_whoosh_reads(tmp_path, cutoff):
    """Opening an index reads each segment's ids and stored fields with their
    values' offsets summed at once (or read, where Whoosh wrote them): every
    document reads as Whoosh itself reads it, empty values included."""
    schema = fields.Schema(id=fields.ID(sortable=columns.VarBytesColumn(write_offsets_cutoff=cutoff)),
                           title=fields.STORED(), date=fields.DATETIME(sortable=True))
    index = whoosh.index.create_in(str(tmp_path), schema)
    for segment in range(2):
        with index.writer() as writer:
            for n in range(5):
                writer.add_document(**({"id": f"/articles/{segment}-{'é' * n}.txt"} if n != 2 else {}),
                                    **({"title": f"Titre {n}"} if n != 3 else {}),
                                    date=dt.datetime(2024, 1, 1 + n))
            writer.mergetype = whoosh.writing.NO_MERGE
    with index.reader() as whooshs, index.reader() as ours:
        expected = [{**whooshs.stored_fields(n),
                     **({"id": whooshs.column_reader("id")[n]} if whooshs.column_reader("id")[n] else {}),
                     "date": whooshs.column_reader("date")[n]} for n in range(whooshs.doc_count_all())]
        read = [StoredFields(ours)(n) for n in range(ours.doc_count_all())]
    assert len(ours.leaf_readers()) == 2
    assert read == expected
    assert read[7] == {"title": "Titre 2", "date": dt.datetime(2024, 1, 3)}
    assert read[8] == {"id": "/articles/1-ééé.txt", "date": dt.datetime(2024, 1, 4)}
