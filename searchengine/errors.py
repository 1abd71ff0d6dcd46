"""Every error newsearch raises, in one tree::

    NewsearchError
    ├── IndexNotFound   no index in the folder: run `newsearch index` first
    ├── IndexLocked     another process is updating the index
    ├── IndexCorrupt    the folder holds something Whoosh cannot open
    ├── UnknownIndexFormat  the index, or the installed Whoosh, is of a format newsearch does not know
    ├── BadArticle      one file or record could not be read (.path, .line)
    └── ArticleNotFound no article has that id

Whoosh's own exceptions are caught where they happen and re-raised as one of
these, so embedders and the CLI deal with this tree alone.
"""

from __future__ import annotations

from pathlib import Path


class NewsearchError(Exception):
    """Base class: the message is the one line a user reads."""


class IndexNotFound(NewsearchError):
    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(f"no index in {path}: run `newsearch index` to build one")


class IndexLocked(NewsearchError):
    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(
            f"the index in {path} is being updated by another process; "
            "try again when it finishes, or pass --wait SECONDS"
        )


class IndexCorrupt(NewsearchError):
    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        super().__init__(f"cannot open the index in {path}: {reason}")


class UnknownIndexFormat(NewsearchError):
    """Whoosh's private format is read and written by ``whooshformat``, which
    knows one version of it: another Whoosh could misread the index silently."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        super().__init__(f"cannot use the index in {path}: {reason}")


class BadArticle(NewsearchError):
    """A file or a record in it that could not be read; indexing goes on."""

    def __init__(self, path: str, reason: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.reason = reason
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {reason}")


class ArticleNotFound(NewsearchError):
    def __init__(self, article_id: str) -> None:
        self.article_id = article_id
        super().__init__(f"no article with id {article_id!r} in the index")
