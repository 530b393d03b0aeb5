"""The trainee's path in headless Chromium (Debian's package): start, three turns, exam switch, report."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail("Chromium and ChromeDriver are needed: `make browser-deps` installs Debian's packages.")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="rapport-chromium-")
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--window-size=1280,1400",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_three_turns_then_the_report(stack: dict[str, Any], browser: Any, tmp_path: Path) -> None:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    # The page re-renders the chat after a change (exam mode, reload): elements found earlier may go stale.
    wait = WebDriverWait(browser, 30, ignored_exceptions=(StaleElementReferenceException,))
    browser.get(stack["base"] + "/")
    name = wait.until(ec.presence_of_element_located((By.ID, "display-name")))
    name.clear()
    name.send_keys("Browser Trainee")
    news = '.scenario-card[data-scenario-id="difficult-news"]'
    card = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, news + " .start-button")))
    personas = browser.find_elements(By.CSS_SELECTOR, ".scenario-card .persona-select")
    assert personas and len(personas[0].find_elements(By.TAG_NAME, "option")) == 2  # the attachment scenario
    assert not browser.find_elements(By.CSS_SELECTOR, news + " .persona-select")  # one persona: no choice shown
    card.click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".turn.patient")))

    turns = [
        "Hello, I'm Dr Khan, one of the breast surgeons.",
        "What have you been told about the biopsy so far?",
        "Don't worry, it's probably nothing serious.",
    ]
    for i, text in enumerate(turns, start=1):
        box = wait.until(ec.element_to_be_clickable((By.ID, "message-input")))
        box.send_keys(text)
        browser.find_element(By.ID, "send-button").click()
        wait.until(lambda d, n=i: len(d.find_elements(By.CSS_SELECTOR, ".turn.patient")) >= n + 1)
    cards = browser.find_elements(By.CSS_SELECTOR, ".score-card")
    assert len(cards) == 3
    assert "Reassurance" in cards[-1].text or "reassurance" in cards[-1].text
    assert browser.find_elements(By.CSS_SELECTOR, ".score-card mark")  # evidence highlighted in the text

    wait.until(ec.element_to_be_clickable((By.ID, "hint-button"))).click()  # asks the app, not the patient
    hint = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".turn.system")))
    assert "Hint:" in hint.text
    assert len(browser.find_elements(By.CSS_SELECTOR, ".score-card")) == 3  # a command is not scored

    browser.find_element(By.ID, "exam-toggle").click()
    wait.until(lambda d: not any(c.is_displayed() for c in d.find_elements(By.CSS_SELECTOR, ".score-card")))
    wait.until(lambda d: not d.find_element(By.ID, "exam-toggle").is_enabled())  # once on, it stays on

    browser.refresh()  # reload keeps the whole history
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".turn.patient")) == 4)
    browser.save_screenshot(str(tmp_path / "session.png"))

    browser.find_element(By.ID, "end-session").click()  # ending asks first; "Keep practising" goes back
    wait.until(ec.element_to_be_clickable((By.ID, "end-cancel"))).click()
    assert not browser.find_elements(By.ID, "end-confirm") and "session.html" in browser.current_url
    browser.find_element(By.ID, "end-session").click()
    wait.until(ec.element_to_be_clickable((By.ID, "end-confirm"))).click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#spikes .check-item")))
    report = browser.find_element(By.ID, "report").text
    assert "not norms" in report
    assert "Perception" in report
    assert browser.find_elements(By.CSS_SELECTOR, "#rubric .rubric-row")  # the scenario's own rubric
    assert "Turning points" in browser.find_element(By.ID, "debrief").text
    transcript = browser.find_element(By.ID, "transcript").text
    assert turns[2] in transcript
    assert browser.find_elements(By.ID, "print-button")
    browser.save_screenshot(str(tmp_path / "report.png"))
