"""The README's screenshot of the search page, taken by the browser tests' Chromium.

Serves the articles of ``tests/test_server.py`` (made-up text, no corpus)
and saves the page of ``marché`` at laptop width; ``--phone FILE`` adds one at
phone width. Run from the project's root:

    python -m tests.screenshot                           # docs/search-page.png
    python -m tests.screenshot --phone /tmp/phone.png
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from searchengine import SearchEngine
from tests.test_browser import LAPTOP, PHONE, chromium, viewport
from tests.test_server import records, serving

ROOT = Path(__file__).resolve().parents[1]
PAGE = "/?q=march%C3%A9"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "search-page.png", help="default: %(default)s")
    parser.add_argument("--phone", type=Path, help="also a phone-width PNG here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        dump = folder / "news.jsonl"
        dump.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records()) + "\n", encoding="utf-8")
        with SearchEngine(folder / "ix") as engine:
            engine.index([dump])
        with serving(folder / "ix", folder / "server.log", "--workers", "1") as url, chromium() as browser:
            for size, path in ((LAPTOP, args.out), (PHONE, args.phone)):
                if path:
                    viewport(browser, size)
                    browser.get(url + PAGE)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(browser.get_screenshot_as_png())
                    print(f"{path}: {size[0]}×{size[1]}, {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
