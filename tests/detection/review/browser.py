"""Drive the review app in a real headless Chromium (selenium + Debian's chromedriver), with the
app run as users run it: `ringwatch review` in its own process on a free loopback port."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
)


def free_port() -> int:
    """A port nobody listens on right now (loopback)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ringwatch() -> str:
    """The installed `ringwatch` beside this interpreter."""
    return str(Path(sys.executable).with_name("ringwatch"))


@contextmanager
def review_server(folder: Path, log: Path, *extra: str) -> Iterator[str]:
    """`ringwatch review FOLDER` on a free loopback port; yields its base URL; stops it after."""
    port = free_port()
    command = [ringwatch(), "review", str(folder), "--port", str(port), *extra]
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"ringwatch review exited: {log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(base + "/static/app.css", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(log.read_text()[-2000:]) from None
                time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def browser(profile: Path) -> Iterator[object]:
    """A headless Chromium with a fresh profile (selenium WebDriver); quit after."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    driver.implicitly_wait(20)  # find_element retries while a page loads (a loaded machine)
    try:
        yield driver
    finally:
        driver.quit()


def click_and_wait(driver, element) -> None:
    """Click a link or button and wait until the next page has replaced this one."""
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.wait import WebDriverWait

    element.click()
    WebDriverWait(driver, 60).until(expected_conditions.staleness_of(element))


def screenshot(driver, path: Path, height: int = 1000) -> Path:
    """A PNG of the current page, `height` pixels tall."""
    driver.set_window_size(1400, height)
    path.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(path))
    from PIL import Image  # 256 colours: a third of the size, same look for a web page

    image = Image.open(path).convert("RGB")
    image.quantize(256, method=Image.Quantize.FASTOCTREE).save(path, optimize=True)
    return path


def shoot(folder: Path, out: Path) -> list[Path]:
    """Screenshots of the queue, the first ring and the first account of a list (README):
    python -m tests.detection.review.browser LIST_FOLDER docs/"""
    from selenium.webdriver.common.by import By

    with review_server(folder, out / ".server.log") as base, browser(out / ".profile") as b:
        b.get(base + "/?status=all")
        shots = [screenshot(b, out / "review-queue.png", 900)]
        click_and_wait(b, b.find_element(By.CSS_SELECTOR, "table.queue td a[href^='/ring/']"))
        shots.append(screenshot(b, out / "review-ring.png", 1250))
        b.get(base + "/?status=all")
        click_and_wait(b, b.find_element(By.CSS_SELECTOR, "table.queue td a[href^='/account/']"))
        shots.append(screenshot(b, out / "review-account.png", 1250))
    shutil.rmtree(out / ".profile", ignore_errors=True)
    (out / ".server.log").unlink(missing_ok=True)
    return shots


if __name__ == "__main__":
    print(shoot(Path(sys.argv[1]), Path(sys.argv[2])))
