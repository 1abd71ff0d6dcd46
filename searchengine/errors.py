"""Every error newsearch raises, in one tree::

    NewsearchError
    ├── IndexNotFound   no index in the folder
    ├── IndexLocked     another process is updating the index
    ├── IndexCorrupt    the folder holds an index that cannot be read
    ├── UnknownIndexFormat  the index, or the installed Whoosh, is of a format newsearch does not know
    ├── IndexWriteError the index could not be written (permissions, disk full, ...)
    ├── BadArticle      one file or record could not be read (.path, .line)
    ├── BadQuery        a query that can match nothing as typed (.query)
    ├── ArticleNotFound no article has that id, or several have
    └── ClusterError    the OpenSearch cluster cannot be reached, is red, or refused a request

An OpenSearch index that does not exist is an ``IndexNotFound`` too
(``ClusterIndexNotFound``), so callers treat both homes alike.

Whoosh's and the OS's exceptions are caught where they happen and re-raised as
one of these, so embedders and the CLI deal with this tree alone. Messages say
what is wrong, not which command to run: that is the caller's to say (the CLI
adds its own instructions, see ``searchengine.cli``).
"""

from __future__ import annotations

from pathlib import Path


class NewsearchError(Exception):
    """Base class: the message is the one line a user reads."""


class IndexNotFound(NewsearchError):
    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(f"no index in {path}")


class IndexLocked(NewsearchError):
    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(f"the index in {path} is being updated by another process")


class IndexCorrupt(NewsearchError):
    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"cannot open the index in {path}: {reason}")


class UnknownIndexFormat(NewsearchError):
    """Whoosh's private format is read and written by ``whooshformat``, which
    knows one version of it: another Whoosh could misread the index silently."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        super().__init__(f"cannot use the index in {path}: {reason}")


class IndexWriteError(NewsearchError):
    """The index could not be written; the run was undone, so the index is as
    its last commit left it (``.reason`` is the system's or Whoosh's)."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"cannot update the index in {path}: {reason}")


class BadArticle(NewsearchError):
    """A file or a record in it that could not be read; indexing goes on.
    ``count`` is how many records it stands for: more than one when a file's
    many bad lines are summed up in one problem."""

    def __init__(self, path: str, reason: str, line: int | None = None, *, count: int = 1) -> None:
        self.path = path
        self.line = line
        self.reason = reason
        self.count = count
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {reason}")


class BadQuery(NewsearchError, ValueError):
    def __init__(self, query: str, reason: str) -> None:
        self.query = query
        super().__init__(f"the query {query!r} cannot match anything: {reason}")


class ArticleNotFound(NewsearchError):
    def __init__(self, article_id: str, message: str | None = None) -> None:
        self.article_id = article_id
        super().__init__(message or f"no article with id {article_id!r} in the index")


class ClusterIndexNotFound(IndexNotFound):
    """No newsearch index of that name on the OpenSearch cluster."""

    def __init__(self, where: str) -> None:
        self.path = Path(where)
        NewsearchError.__init__(self, f"no index {where}")


class ClusterError(NewsearchError):
    """The OpenSearch cluster cannot be reached, is red (some shard has no
    copy), or refused a request; ``.reason`` is the cluster's or the network's."""

    def __init__(self, urls: str, reason: str) -> None:
        self.urls = urls
        self.reason = reason
        super().__init__(f"OpenSearch at {urls}: {reason}")
