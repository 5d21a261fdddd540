"""The report in a real browser: headless Chromium (Debian's package) opens the pages
from file://, every chart renders as SVG with no console error, a click on a heat-map
cell leads to that cell's evidence, and no page requests anything outside the report
folder. ``make test`` installs chromium and chromium-driver; set STANCE_SKIP_BROWSER=1 to
skip these tests on a machine that cannot have them (they fail otherwise)."""

from __future__ import annotations

import os
import time
from urllib.parse import urlparse

import pytest

import browser

if os.environ.get("STANCE_SKIP_BROWSER") == "1":
    pytest.skip("STANCE_SKIP_BROWSER=1", allow_module_level=True)


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    problem = browser.available()
    if problem:
        pytest.fail(f"browser tests need Chromium: {problem}; or set STANCE_SKIP_BROWSER=1")
    d = browser.start(tmp_path_factory.mktemp("chromium-profile"))
    yield d
    d.quit()


def _open(driver, path, timeout=30.0):
    """Open a report page and wait until its charts have rendered (or failed)."""
    driver.get(path.resolve().as_uri())
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        # (selenium turns both null and undefined into None: say each case in words)
        state = driver.execute_script(
            "return document.readyState != 'complete' ? 'loading' : (window.stanceCharts || 'no charts')")
        if state == "no charts":
            return None
        if isinstance(state, dict) and state["rendered"] + len(state["failed"]) >= state["total"]:
            return state
        time.sleep(0.1)
    raise AssertionError(f"{path.name}: charts did not render in {timeout} s")


def _pages(report):
    seed = next((report / "articles").glob("9b54b077d780533b-*.html"))
    return [report / "index.html", report / "timeline.html", report / "heatmap.html", report / "evidence" / "index.html",
            next((report / "evidence").glob("RUS_USA-*.html")), report / "articles" / "index.html", seed]


def _outside(urls, report):
    root = report.resolve().as_uri() + "/"
    return [u for u in urls if not (u.startswith(root) or urlparse(u).scheme in ("data", "about", "blob"))]


def test_every_chart_renders_with_no_console_error_and_nothing_from_outside(driver, report):
    browser.requests(driver)
    seen_charts = 0
    for page in _pages(report):
        state = _open(driver, page)
        assert not browser.console_errors(driver), (page.name, browser.console_errors(driver))
        if state is not None:
            assert state["failed"] == [] and state["rendered"] == state["total"] > 0, (page.name, state)
            for el in driver.find_elements("css selector", "div.chart"):
                svg = el.find_elements("css selector", "svg")
                assert svg, (page.name, el.get_attribute("id"))
                marks = svg[0].find_elements("css selector", "g.mark-rect path, g.mark-symbol path, g.mark-line path, g.mark-text text")
                assert marks, (page.name, el.get_attribute("id"), "an empty chart")
            seen_charts += state["total"]
        urls = browser.requests(driver)
        assert urls, page.name  # the log works: the page itself was requested
        assert _outside(urls, report) == [], page.name
    assert seen_charts >= 10


def test_heatmap_click_leads_to_its_evidence(driver, report):
    from selenium.webdriver.common.action_chains import ActionChains

    _open(driver, report / "heatmap.html")
    cells = driver.find_elements("css selector", "g.mark-rect path")
    assert len(cells) > 20
    # a cell somewhere in the middle, as a user would pick it
    cell = cells[len(cells) // 2]
    label = cell.get_attribute("aria-label")  # Vega's description of the mark: "topic: …; pair: …; …"
    fields = dict(part.split(": ", 1) for part in label.split("; ") if ": " in part)
    pair, topic = fields["pair"], fields["topic"]
    ActionChains(driver).move_to_element(cell).click().perform()
    end = time.monotonic() + 10
    while "evidence/" not in driver.current_url and time.monotonic() < end:
        time.sleep(0.1)
    url = urlparse(driver.current_url)
    assert "/evidence/" in url.path and url.fragment == f"t-{topic}", driver.current_url
    assert driver.find_element("tag name", "h1").text == f"Evidence: {pair}"
    section = driver.find_element("id", url.fragment)
    assert section.text.startswith(topic)
    # the evidence under that heading: sentences of the cell, each linking to its article page
    items = driver.execute_script(
        "const h = document.getElementById(arguments[0]); const out = [];"
        "for (let el = h.nextElementSibling; el && el.tagName != 'H2'; el = el.nextElementSibling)"
        "  el.querySelectorAll('li').forEach(li => out.push([li.querySelector('.sent').textContent,"
        "    (li.querySelector('a') || {}).href || '']));"
        "return out;", url.fragment)
    assert items, f"no evidence listed for {pair} {topic}"
    n = int(fields["n"])
    assert 0 < len(items) <= min(n, 10)
    sentence, href = items[0]
    assert href, "the evidence links to its article page"
    driver.get(href)
    target = urlparse(driver.current_url).fragment
    # the sentence's words, without the mention labels (RUS, ARMS_CONTROL) drawn inside it
    text = driver.execute_script(
        "const c = document.getElementById(arguments[0]).cloneNode(true);"
        "c.querySelectorAll('.ent-label').forEach(x => x.remove()); return c.textContent;", target)
    assert text == sentence
    assert browser.console_errors(driver) == []


def test_article_page_marks_and_check(driver, report):
    seed = next((report / "articles").glob("9b54b077d780533b-*.html"))
    _open(driver, seed)
    coloured = driver.find_elements("css selector", "span.sent.convergence, span.sent.divergence, span.sent.neutral")
    marks = driver.find_elements("css selector", "mark.ent-actor")
    assert len(coloured) > 20 and len(marks) > 30
    # colours are visible: a convergent sentence's background is not the page's
    bg = coloured[0].value_of_css_property("background-color")
    assert bg not in ("rgba(0, 0, 0, 0)", "transparent")
    tables = driver.find_elements("css selector", "table[id^='table-']")
    assert len(tables) == 3
    assert "agree" in tables[0].text and "prose" in tables[0].text
