"""Every error newsearch raises, in one tree::

    NewsearchError
    ├── IndexNotFound   no index in the folder: run `newsearch index` first
    ├── IndexLocked     another process is updating the index
    ├── IndexCorrupt    the folder holds something Whoosh cannot open
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


class ArticleNotFound(NewsearchError):
    def __init__(self, article_id: str) -> None:
        self.article_id = article_id
        super().__init__(f"no article with id {article_id!r} in the index")
