"""Screenshots of a report for the README: ``python docs/screenshots.py REPORT_DIR``
(after ``make run && make report``: ``python docs/screenshots.py out-report``).

Writes docs/report_overview.png, docs/report_timeline.png, docs/report_heatmap.png and
docs/report_article.png (the seed article's page), taken in headless Chromium with the
browser tests' helper (tests/browser.py).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import browser  # noqa: E402

SEED = "9b54b077d780533b"


def shoot(driver, page: Path, target: Path, max_height: int) -> None:
    driver.set_window_size(1280, 900)
    driver.get(page.resolve().as_uri())
    end = time.monotonic() + 30
    while time.monotonic() < end:
        state = driver.execute_script(
            "return document.readyState != 'complete' ? 'loading' : (window.stanceCharts || 'no charts')")
        if state == "no charts" or (isinstance(state, dict) and state["rendered"] + len(state["failed"]) >= state["total"]):
            break
        time.sleep(0.1)
    height = driver.execute_script("return document.body.scrollHeight")
    driver.set_window_size(1280, min(height + 20, max_height))
    driver.save_screenshot(str(target))
    print(target)


def main(report: Path) -> None:
    driver = browser.start()
    try:
        shoot(driver, report / "index.html", HERE / "report_overview.png", 1500)
        shoot(driver, report / "timeline.html", HERE / "report_timeline.png", 1250)
        shoot(driver, report / "heatmap.html", HERE / "report_heatmap.png", 800)
        shoot(driver, next((report / "articles").glob(f"{SEED}-*.html")), HERE / "report_article.png", 2200)
    finally:
        driver.quit()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "out-report"))
