"""A reviewer's session in a real browser: open the queue, open a ring, close the ring, clear
one account, reload and see the decisions; then `ringwatch feedback --from-review` turns them
into labels and a retrain sees them."""

from __future__ import annotations

import os
import subprocess
from dataclasses import replace
from pathlib import Path

import lightgbm as lgb
import numpy as np
import polars as pl
import pytest

from features.io.load import labels_known_at, load_dataset
from tests.detection.review.browser import (
    CHROMIUM,
    DRIVER,
    browser,
    click_and_wait,
    review_server,
    ringwatch,
    screenshot,
)
from tests.detection.review.conftest import EVIL_ACCOUNT, EVIL_RING
from tests.detection.world import AS_OF, FEATURES
from training.config import TrainConfig
from training.fit import check_labels

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="chromium / chromedriver not installed (apt-get install chromium chromium-driver)",
)
SHOTS = os.environ.get("RINGWATCH_SCREENSHOTS")  # a folder: keep the screenshots there


def decide(driver, verb: str, reviewer: str, note: str) -> None:
    """Fill the decision form of the page and press one of its buttons."""
    from selenium.webdriver.common.by import By

    form = driver.find_element(By.CSS_SELECTOR, "form.decide")
    name = form.find_element(By.NAME, "reviewer")
    name.clear()
    name.send_keys(reviewer)
    form.find_element(By.NAME, "note").send_keys(note)
    click_and_wait(driver, form.find_element(By.CSS_SELECTOR, f"button[value={verb}]"))


def test_a_review_session_becomes_labels(fresh_list: Path, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    shots = Path(SHOTS) if SHOTS else tmp_path / "shots"
    with review_server(fresh_list, tmp_path / "server.log") as base, browser(tmp_path / "p") as b:
        b.get(base + "/")
        assert b.title.startswith("Review queue")
        assert EVIL_ACCOUNT in b.find_element(By.CSS_SELECTOR, "table.queue").text  # as text
        screenshot(b, shots / "review-queue.png")
        click_and_wait(b, b.find_element(By.LINK_TEXT, EVIL_RING))  # the ring's link in the queue
        assert b.find_element(By.TAG_NAME, "h1").text == f"Ring {EVIL_RING}"
        members = [e.text for e in b.find_elements(By.CSS_SELECTOR, "table.members td a")]
        assert EVIL_ACCOUNT in members and len(members) >= 3
        assert b.find_element(By.CSS_SELECTOR, "img.drawing").get_attribute("naturalWidth") != "0"
        screenshot(b, shots / "review-ring.png", 1300)
        decide(b, "closed", "ann", "shared device farm")
        assert b.find_element(By.TAG_NAME, "h1").text == f"Ring {EVIL_RING}"  # back on the ring
        cells = [e.text for e in b.find_elements(By.CSS_SELECTOR, "table.members td.decision")]
        assert cells and all(c.startswith("closed by ann") for c in cells)

        b.get(base + "/?status=undecided")
        solo = b.find_element(By.CSS_SELECTOR, "table.queue tbody tr td:nth-child(2) a")
        cleared = solo.text
        click_and_wait(b, solo)
        assert b.find_element(By.NAME, "reviewer").get_attribute("value") == "ann"  # remembered
        decide(b, "cleared", "bob", "verified brand")
        screenshot(b, shots / "review-account.png", 1300)

        b.get(base + "/?status=all")
        b.refresh()
        rows = {
            r.get_attribute("data-account"): r.find_element(By.CSS_SELECTOR, "td.decision").text
            for r in b.find_elements(By.CSS_SELECTOR, "table.queue tbody tr")
        }
        assert rows[EVIL_ACCOUNT].startswith("closed by ann")
        assert rows[cleared].startswith("cleared by bob")
        b.get(base + "/decisions")
        assert "verified brand" in b.find_element(By.CSS_SELECTOR, "table.decisions").text
        logs = b.get_log("browser") if hasattr(b, "get_log") else []
        assert not [entry for entry in logs if entry.get("level") == "SEVERE"], logs

    run = subprocess.run(
        [ringwatch(), "feedback", "--from-review", str(fresh_list)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    ring_size = len(members)
    assert f"{ring_size + 1} labels added" in run.stdout
    again = subprocess.run(
        [ringwatch(), "feedback", "--from-review", str(fresh_list), "--json"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert '"labels_added": 0' in again.stdout and f'"skipped": {ring_size + 1}' in again.stdout

    data = fresh_list.parents[1] / "data"
    labels = labels_known_at(load_dataset(data, AS_OF))  # training's rule at the list's snapshot
    known = dict(zip(labels["account_id"], labels["label"], strict=True))
    assert known[EVIL_ACCOUNT] == 1 and known[cleared] == 0
    assert sum(v == 1 for v in known.values()) == ring_size

    # a retrain: training's own label rule picks the reviewed accounts, and a booster fits them
    table = pl.read_parquet(fresh_list / "candidates.parquet").unnest("feature_values")
    config = replace(TrainConfig(), min_labels=2, min_per_class=1)
    labelled = check_labels(table, labels, config)
    assert labelled.height == ring_size + 1
    rows = labelled.join(table.select("account_id", *FEATURES), on="account_id", how="left")
    x = rows.select(FEATURES).to_numpy().astype(np.float64)
    params = {"objective": "binary", "verbose": -1, "min_data_in_leaf": 1, "num_threads": 1}
    booster = lgb.train(params, lgb.Dataset(x, rows["label"].to_numpy()), num_boost_round=3)
    assert booster.predict(x).shape == (ring_size + 1,)
