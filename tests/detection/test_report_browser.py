"""report.html renders in a real headless Chromium: table, ring drawings, no script errors,
and nothing fetched from the network."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (apt-get install -y chromium); .ci/run installs it",
)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # any network fetch would fail and be logged
    "--enable-logging=stderr",
    "--v=0",
]


def chromium(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    """Run headless Chromium on a local page with a throwaway profile."""
    command = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *extra, page.as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def rendered(scored, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """(DOM after scripts ran, Chromium's log) of the scored run's report."""
    profile = tmp_path_factory.mktemp("chromium-profile")
    run = chromium(scored.folder / "report.html", profile, "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout, run.stderr


def test_the_ranked_table_renders_every_candidate(rendered, scored) -> None:
    dom, _ = rendered
    candidates = pl.read_parquet(scored.folder / "candidates.parquet")
    table = dom.split('<table id="candidates">')[1].split("</table>")[0]
    rows = re.findall(r'<tr data-action="(close|review|watch)"', table)
    assert len(rows) == candidates.height
    for account in candidates["account_id"].head(20):
        assert account in table
    assert 'class="reasons"' in table


def test_ring_pictures_and_charts_are_inline_images(rendered, scored) -> None:
    dom, _ = rendered
    drawings = re.findall(r'<img class="ring-drawing"[^>]*src="data:image/png;base64,', dom)
    assert len(drawings) == 4  # max_ring_sections of the fixture
    assert 'id="histogram"' in dom and 'id="precision"' in dom
    html = (scored.folder / "report.html").read_text()
    assert not re.search(r'(src|href)="(https?:)?//', html)  # self-contained


def test_the_page_script_ran_without_errors(rendered) -> None:
    dom, log = rendered
    assert 'data-ready="yes"' in dom  # the last line of the page script ran
    console = [line for line in log.splitlines() if "CONSOLE" in line]
    assert console == [], console
    assert "Uncaught" not in log and "net::ERR" not in log


def test_screenshot(scored, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    run = chromium(
        scored.folder / "report.html",
        tmp_path / "profile",
        "--hide-scrollbars",
        "--window-size=1400,1800",
        f"--screenshot={shot}",
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
