"""Pages a person looks at, opened in a real browser: Debian's headless Chromium, a fresh profile per call.

The screenshots the tests take go to ``build/screenshots/`` (ignored by git), so that the suite leaves the work
tree clean; ``make screenshots`` takes them again and copies them over the documentation's pictures
(``docs/pages/images/``), which are then of what the tests just checked.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.conftest import ROOT, require

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = ROOT / "build" / "screenshots"
WIDTH = 1400


def chromium(*args: str, url: str, height: int = 1000) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium on ``url`` with ``args`` (``--dump-dom``, ``--screenshot=PATH``)."""
    require(Path(CHROMIUM).is_file() or shutil.which("chromium") is not None, "chromium is not installed")
    with tempfile.TemporaryDirectory(prefix="gapsearch-chromium-") as profile:
        return subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                f"--window-size={WIDTH},{height}",
                "--hide-scrollbars",
                "--virtual-time-budget=20000",
                *args,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )


def visible_text(page: str) -> str:
    """The text a reader sees in a dumped DOM: scripts and styles dropped, tags removed, spaces collapsed."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def screenshot(url: str, name: str, height: int = 1000) -> Path:
    """Screenshot ``url`` into ``build/screenshots/NAME``; checks that a PNG of the window's width came out."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    path.unlink(missing_ok=True)
    shot = chromium(f"--screenshot={path}", url=url, height=height)
    assert shot.returncode == 0, shot.stderr[-2000:]
    png = path.read_bytes()
    assert png.startswith(b"\x89PNG") and int.from_bytes(png[16:20], "big") == WIDTH
    return path
