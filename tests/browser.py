"""Headless Chromium for the report's browser tests (Debian's ``chromium`` and
``chromium-driver``, driven by selenium; ``make test`` installs them).

Started with the flags this machine needs (no sandbox as root, no background
networking: the network is closed) and a fresh profile; every request the pages make
is read from Chrome's performance log.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

CHROMIUM = os.environ.get("STANCE_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("STANCE_CHROMEDRIVER", "/usr/bin/chromedriver")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run", "--disable-sync", "--disable-quic", "--disable-dev-shm-usage", "--window-size=1300,1000"]
#: pages of the browser itself (its new-tab page at start-up), not requested by a report
BROWSER_OWN = ("chrome:", "chrome-untrusted:", "chrome-search:", "devtools:", "chrome-extension:")


def available() -> str | None:
    """None when Chromium and ChromeDriver are there, else what is missing."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not (Path(p).is_file() or shutil.which(p))]
    return ", ".join(missing) + " not found (apt-get install chromium chromium-driver)" if missing else None


def start(profile: Path | None = None):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in FLAGS + [f"--user-data-dir={profile or tempfile.mkdtemp(prefix='stance-chromium-')}"]:
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)


def requests(driver) -> list[str]:
    """URLs requested since the last call (the performance log is drained), the
    browser's own pages left out."""
    urls = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            url = msg["params"]["request"]["url"]
            if not url.startswith(BROWSER_OWN):
                urls.append(url)
    return urls


def console_errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
