"""Files newsearch keeps beside a generation of the index (``_<index>_<generation>.<kind>``: its
glued words, its duplicate groups), which Whoosh's TOC does not list. Each is written whole under
a temporary name and renamed into place, so a reader sees the old file or the new one; the other
generations' files of that kind are then removed, as Whoosh removes the TOCs it no longer needs."""

from __future__ import annotations

import os
import re
import time


def side_filename(indexname: str, generation: int, kind: str) -> str:
    return f"_{indexname}_{generation}.{kind}"


def replace_side_file(folder: str | os.PathLike[str], indexname: str, generation: int, kind: str,
                      data: bytes | None) -> None:
    """Keep ``data`` as the ``kind`` file of ``generation`` (None: no file) and remove every
    other file of that kind, leftover temporary files included. A file that cannot be written (a
    full disk, say) is left out too: readers then do without it."""
    name = ""
    if data is not None:
        name = side_filename(indexname, generation, kind)
        temporary = os.path.join(folder, f"{name}.{time.time_ns()}.tmp")
        try:
            with open(temporary, "wb") as fh:
                fh.write(data)
            os.replace(temporary, os.path.join(folder, name))
        except OSError:
            name = ""
    pattern = re.compile(rf"^_(.+)_(\d+)\.{re.escape(kind)}(?:\.\d+\.tmp)?$")
    for other in os.listdir(folder):
        matched = pattern.match(other)
        if matched and matched.group(1) == indexname and other != name:
            try:
                os.remove(os.path.join(folder, other))
            except OSError:
                pass  # removed by the next commit
