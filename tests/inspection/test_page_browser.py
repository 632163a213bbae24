"""The inspection page opens in headless Chromium without JavaScript errors, with its plots and tables rendered."""

import re
from pathlib import Path

import pytest

from learned_actuators.inspection.cli import HTML_FILE, main
from tests.inspection.browser import DomSummary, load_page

pytestmark = pytest.mark.integration

PLOTS = {"signals", "coverage", "gains", "torque_speed"}


def test_console_messages_are_caught(tmp_path):
    """The check itself: a page with a script error reports it (so an empty list below means no error)."""
    page = tmp_path / "broken.html"
    page.write_text("<html><body><script>console.error('x'); notDefined();</script></body></html>")
    _, console = load_page(page, tmp_path)
    assert any("Uncaught ReferenceError" in line for line in console), console


def test_demo_page_renders_plots_and_tables(tmp_path, capsys):
    out = tmp_path / "inspect"
    assert main(["--demo", "--out", str(out)]) == 0
    dom, console = load_page(out / HTML_FILE, tmp_path)
    assert console == []
    summary = DomSummary(PLOTS)
    summary.feed(dom)
    assert summary.rendered == PLOTS  # every figure drew its SVG: plotly.js is inlined and ran offline
    assert summary.rows["runs"] == 16  # one row per demo run
    assert summary.rows["rows_0"] == 12  # the first rows of the first run
    assert summary.rows["split"] == 1  # the demo preset's single fold (up_and_down)
    assert re.search(r"<script[^>]*\ssrc=", (out / HTML_FILE).read_text()) is None  # no external script


def test_shared_sts3250_page_renders(tmp_path, shared_data: Path, capsys):
    out = tmp_path / "sts"
    assert main([str(shared_data / "bam" / "sts3250_raw"), "--column-map", "bam_sts3250", "--out", str(out)]) == 0
    dom, console = load_page(out / HTML_FILE, tmp_path)
    assert console == []
    summary = DomSummary(PLOTS)
    summary.feed(dom)
    assert summary.rendered == PLOTS
    assert summary.rows["runs"] == 4
