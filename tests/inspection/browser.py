"""Headless Chromium for the page tests: find it (``$CHROMIUM``, ``chromium``, ``chromium-browser``), load a page,
return the rendered DOM and the console messages."""

import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path


def chromium() -> str:
    """Path of the browser; fails (never skips) when missing: ``./run.sh test`` installs it (ensure_chromium)."""
    found = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "headless Chromium not found: apt-get install chromium (./run.sh test does), or set CHROMIUM"
    return found


def load_page(page: Path, tmp: Path) -> tuple[str, list[str]]:
    """Open ``page`` headless; the DOM after its scripts ran, and every console message (errors, uncaught ones)."""
    cmd = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        f"--user-data-dir={tmp / 'chromium-profile'}",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=15000",
        "--dump-dom",
        page.resolve().as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    return proc.stdout, console


class DomSummary(HTMLParser):
    """Which plot divs hold a rendered plotly SVG (``main-svg``), and the body rows of each table by id."""

    def __init__(self, plot_ids: set[str]):
        super().__init__()
        self.plot_ids, self.rendered, self.rows = plot_ids, set(), {}
        self._stack: list[str | None] = []
        self._table: str | None = None
        self._in_body = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "div":
            self._stack.append(a.get("id") if a.get("id") in self.plot_ids else None)
        if tag == "svg" and "main-svg" in (a.get("class") or ""):
            self.rendered.update(i for i in self._stack if i)
        if tag == "table":
            self._table = a.get("id")
            self.rows[self._table] = 0
        if tag == "tbody":
            self._in_body = True
        if tag == "tr" and self._in_body and self._table is not None:
            self.rows[self._table] += 1

    def handle_endtag(self, tag):
        if tag == "div" and self._stack:
            self._stack.pop()
        if tag == "tbody":
            self._in_body = False
