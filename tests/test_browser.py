"""The trainee's path in headless Chromium (Debian's package): start, three turns, exam switch, report; and the
chat never getting in the way: scrolling, Back from the report, a second tab, a compact home page, narrow
screens and print, and a character counter that counts as the server does."""

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
    assert "MITI 4.2.1 thresholds: not used here" in report  # breaking news is not judged by MITI's bands
    assert "Perception" in report
    assert browser.find_elements(By.CSS_SELECTOR, "#rubric .rubric-row")  # the scenario's own rubric
    assert "Turning points" in browser.find_element(By.ID, "debrief").text
    transcript = browser.find_element(By.ID, "transcript").text
    assert turns[2] in transcript
    assert browser.find_elements(By.ID, "print-button")
    browser.save_screenshot(str(tmp_path / "report.png"))


# ----- the chat never gets in the way -----


def _start_session(stack: dict[str, Any], scenario: str = "difficult-news") -> str:
    """A new session through the API (the home page's own path is covered above)."""
    import json
    import urllib.request

    body = json.dumps({"display_name": "Browser Trainee", "scenario_id": scenario, "difficulty": "gentle"})
    request = urllib.request.Request(
        stack["base"] + "/api/sessions", data=body.encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return str(json.loads(response.read())["session"]["id"])


def _wait(browser: Any, seconds: float = 30) -> Any:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, seconds, ignored_exceptions=(StaleElementReferenceException,))


def _count(browser: Any, selector: str) -> int:
    from selenium.webdriver.common.by import By

    return len(browser.find_elements(By.CSS_SELECTOR, selector))


def _open_session(stack: dict[str, Any], browser: Any, session_id: str) -> None:
    browser.get(f"{stack['base']}/session.html?id={session_id}")
    _wait(browser).until(
        lambda d: _count(d, "#chat-log .turn.patient") >= 1 and d.find_element("id", "message-input").is_enabled()
    )


def _say(browser: Any, text: str) -> None:
    """Types a reply, sends it with Enter and waits for the patient's answer."""
    from selenium.webdriver.common.keys import Keys

    before = _count(browser, "#chat-log .turn.patient")
    box = _wait(browser).until(
        lambda d: d.find_element("id", "message-input") if d.find_element("id", "message-input").is_enabled() else None
    )
    box.send_keys(text)
    box.send_keys(Keys.ENTER)
    _wait(browser).until(lambda d: _count(d, "#chat-log .turn.patient") > before)


LAST_TURN_GAP = """
var turns = document.querySelectorAll('#chat-log .turn');
var last = turns[turns.length - 1];
return document.getElementById('composer').getBoundingClientRect().top - last.getBoundingClientRect().bottom;
"""


def test_the_newest_reply_is_never_under_the_message_box(stack: dict[str, Any], browser: Any) -> None:
    browser.set_window_size(1280, 1000)
    try:
        _open_session(stack, browser, _start_session(stack))
        replies = [
            "Hello, I'm Dr Khan, one of the breast surgeons.",
            "What have you been told about the biopsy so far?",
            "I'm afraid I have some difficult news about the results.",
            "It sounds like this is a lot to take in. What is going through your mind?",
        ]
        for text in replies:
            _say(browser, text)
            # The log scrolls (smoothly) until the whole of the newest turn is above the sticky composer.
            _wait(browser, 5).until(lambda d: d.execute_script(LAST_TURN_GAP) >= 0)
        # The conversation is taller than the window: without the scroll the last turn would be hidden.
        assert browser.execute_script("return document.documentElement.scrollHeight > window.innerHeight")
        assert browser.execute_script("return window.scrollY") > 0
    finally:
        browser.set_window_size(1280, 1400)


def test_back_from_the_report_leaves_a_working_page(stack: dict[str, Any], browser: Any) -> None:
    from selenium.webdriver.common.by import By

    # An active session: look at its report (in progress), press Back, and the chat still works with Enter.
    session_id = _start_session(stack)
    _open_session(stack, browser, session_id)
    _say(browser, "Hello, I'm Dr Khan, one of the breast surgeons.")
    browser.get(f"{stack['base']}/report.html?id={session_id}")
    _wait(browser).until(lambda d: d.find_element(By.ID, "report").get_attribute("aria-busy") == "false")
    browser.back()
    _wait(browser).until(lambda d: "session.html" in d.current_url)
    _wait(browser).until(lambda d: d.find_element(By.ID, "message-input").is_enabled())
    _say(browser, "What have you been told about the biopsy so far?")
    assert _count(browser, "#chat-log .turn.patient") == 3

    # End the session: the report opens; Back shows the ended chat, not "Ending…" with a live input.
    browser.execute_script("window.rapportBeforeEnd = true")  # still there if the page comes from the cache
    browser.find_element(By.ID, "end-session").click()
    _wait(browser).until(lambda d: d.find_element(By.ID, "end-confirm").is_displayed())
    browser.find_element(By.ID, "end-confirm").click()
    _wait(browser).until(lambda d: "report.html" in d.current_url)
    _wait(browser).until(lambda d: d.find_element(By.ID, "report").get_attribute("aria-busy") == "false")
    browser.back()
    _wait(browser).until(lambda d: "session.html" in d.current_url)
    _wait(browser).until(lambda d: d.find_element(By.ID, "end-session").text == "View report")
    assert not browser.find_element(By.ID, "message-input").is_enabled()
    assert not browser.find_element(By.ID, "send-button").is_enabled()
    assert browser.find_element(By.ID, "ended-banner").is_displayed()
    assert browser.find_element(By.ID, "end-session").is_enabled()
    restored = browser.execute_script("return window.rapportBeforeEnd === true")
    print(f"back-forward cache used: {restored}")
    browser.find_element(By.ID, "end-session").click()  # "View report" goes to the report
    _wait(browser).until(lambda d: "report.html" in d.current_url)


def test_a_second_tab_catches_up_without_a_reload(stack: dict[str, Any], browser: Any) -> None:
    import time

    session_id = _start_session(stack)
    _open_session(stack, browser, session_id)
    first = browser.current_window_handle
    browser.switch_to.new_window("window")
    second = browser.current_window_handle
    try:
        _open_session(stack, browser, session_id)
        browser.switch_to.window(first)
        _say(browser, "Hello, I'm Dr Khan, one of the breast surgeons.")
        _say(browser, "What have you been told about the biopsy so far?")
        browser.switch_to.window(second)
        _wait(browser, 12).until(lambda d: _count(d, "#chat-log .turn.patient") == 3)
        time.sleep(6)  # another poll or two: still each turn once
        indices = browser.execute_script(
            "return Array.from(document.querySelectorAll('#chat-log .turn')).map((t) => t.dataset.index)"
        )
        assert len(indices) == 5 and len(set(indices)) == 5
        assert _count(browser, "#chat-log .turn.trainee .score-card") == 2
        # And this tab can carry on the conversation itself.
        _say(browser, "I'm afraid I have some difficult news about the results.")
        assert _count(browser, "#chat-log .turn") == 7
    finally:
        browser.close()
        browser.switch_to.window(first)


def test_the_home_page_is_compact(stack: dict[str, Any], browser: Any) -> None:
    from selenium.webdriver.common.by import By

    browser.set_window_size(1280, 1000)
    browser.get(stack["base"] + "/")
    # The worst case for the page's height: the dozen recent sessions the browser remembers.
    saved = browser.execute_script("return localStorage.getItem('rapport.recentSessions')")
    recent = [
        {"id": f"s{i}", "scenario_title": "Jo's biopsy result", "difficulty": "gentle", "status": "ended"}
        for i in range(12)
    ]
    browser.execute_script("localStorage.setItem('rapport.recentSessions', JSON.stringify(arguments[0]))", recent)
    try:
        browser.get(stack["base"] + "/")
        _wait(browser).until(lambda d: _count(d, ".scenario-card .start-button") >= 7)
        # The stack adds an educator's scenario; the page is measured with the six that ship.
        browser.execute_script(
            "document.querySelector('.scenario-card[data-scenario-id=\"' + arguments[0] + '\"]').remove()",
            stack["educator_scenario"],
        )
        height = browser.execute_script("return document.documentElement.scrollHeight")
        print(f"home page height at 1280 wide: {height}px")
        assert height <= 1600
        card = browser.find_element(By.CSS_SELECTOR, '.scenario-card[data-scenario-id="difficult-news"]')
        for selector in (".difficulty-select", ".exam-checkbox", ".start-button"):
            assert card.find_element(By.CSS_SELECTOR, selector).is_displayed()
        # Details on demand: closed at first, open from the keyboard.
        details = card.find_element(By.CSS_SELECTOR, "details.card-details")
        setting = card.find_element(By.CSS_SELECTOR, ".setting")
        assert not setting.is_displayed()
        summary = details.find_element(By.TAG_NAME, "summary")
        browser.execute_script("arguments[0].focus()", summary)
        summary.send_keys(" ")
        _wait(browser, 5).until(lambda d: setting.is_displayed())
        assert card.find_elements(By.CSS_SELECTOR, ".goals li")
        # Six recent sessions show; the other six are one button away.
        shown = [item for item in browser.find_elements(By.CSS_SELECTOR, ".recent-item") if item.is_displayed()]
        assert len(shown) == 6
        more = browser.find_element(By.ID, "recent-more")
        assert more.text == "Show 6 older sessions" and more.get_attribute("aria-expanded") == "false"
        more.click()
        assert sum(item.is_displayed() for item in browser.find_elements(By.CSS_SELECTOR, ".recent-item")) == 12
        assert browser.find_element(By.ID, "recent-more").get_attribute("aria-expanded") == "true"
    finally:
        browser.execute_script(
            "if (arguments[0] === null) localStorage.removeItem('rapport.recentSessions');"
            " else localStorage.setItem('rapport.recentSessions', arguments[0])",
            saved,
        )
        browser.set_window_size(1280, 1400)


FACTS_ALIGNED = """
var facts = Array.from(document.querySelectorAll('.report-facts dt'));
return facts.map(function (dt) {
  var dd = dt.nextElementSibling, a = dt.getBoundingClientRect(), b = dd.getBoundingClientRect();
  return [dt.textContent, dd.textContent, Math.round(b.left - a.left), Math.round(b.top - a.bottom)];
});
"""


def test_report_facts_phone_width_and_print(stack: dict[str, Any], browser: Any) -> None:
    from selenium.webdriver.common.by import By

    session_id = _start_session(stack)
    _open_session(stack, browser, session_id)
    _say(browser, "What have you been told about the biopsy so far?")
    report = f"{stack['base']}/report.html?id={session_id}"
    browser.get(report)
    _wait(browser).until(lambda d: _count(d, ".report-facts dt") >= 5)
    facts = browser.execute_script(FACTS_ALIGNED)
    assert any(label == "Difficulty" and value == "Gentle" for label, value, _, _ in facts)
    for label, value, left, below in facts:
        assert left == 0 and 0 <= below <= 8, (label, value, left, below)  # each value right under its label

    # A phone 390 px wide: no page scrolls sideways.
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
    )
    try:
        for url, ready in (
            (stack["base"] + "/", ".scenario-card .start-button"),
            (f"{stack['base']}/session.html?id={session_id}", "#chat-log .turn .score-card"),
            (report, "#transcript .turn"),
        ):
            browser.get(url)
            _wait(browser).until(lambda d, s=ready: _count(d, s) >= 1)
            assert browser.execute_script("return window.innerWidth") == 390
            width = browser.execute_script("return document.documentElement.scrollWidth")
            assert width <= 390, (url, width)
        facts = browser.execute_script(FACTS_ALIGNED)
        assert all(left == 0 and 0 <= below <= 8 for _, _, left, below in facts), facts
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    # Printed: no header or buttons, the facts still label above value.
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert not browser.find_element(By.ID, "print-button").is_displayed()
        assert not browser.find_element(By.CSS_SELECTOR, ".site-header").is_displayed()
        facts = browser.execute_script(FACTS_ALIGNED)
        assert all(left == 0 and 0 <= below <= 8 for _, _, left, below in facts), facts
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


SET_TEXT = """
var box = document.getElementById('message-input');
box.value = arguments[0];
box.dispatchEvent(new Event('input', { bubbles: true }));
var counter = document.getElementById('char-counter');
return [counter.textContent, counter.classList.contains('over')];
"""


def test_the_counter_counts_what_the_server_counts(stack: dict[str, Any], browser: Any) -> None:
    import json
    import urllib.error
    import urllib.request

    session_id = _start_session(stack)
    _open_session(stack, browser, session_id)
    ligature = "\ufb01"  # NFKC makes it "fi": two characters to the server
    assert browser.execute_script(SET_TEXT, ligature * 1000) == ["2000 / 2000", False]
    assert browser.execute_script(SET_TEXT, ligature * 1001) == ["2002 / 2000", True]
    assert browser.execute_script(SET_TEXT, "\U0001f642" * 3) == ["3 / 2000", False]  # one code point each
    assert browser.execute_script(SET_TEXT, "a\u200bb   c\u00a0") == ["4 / 2000", False]  # invisible and spaces
    assert browser.execute_script(SET_TEXT, "") == ["0 / 2000", False]

    # The server agrees: 1,001 ligatures are over its limit.
    request = urllib.request.Request(
        f"{stack['base']}/api/sessions/{session_id}/messages",
        data=json.dumps({"text": ligature * 1001}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 400
    assert json.loads(refused.value.read())["error"]["code"] == "message_too_long"


# ----- the report tells the truth -----


def _post(stack: dict[str, Any], path: str, body: dict[str, Any], key: str) -> dict[str, Any]:
    import json
    import urllib.request

    request = urllib.request.Request(
        stack["base"] + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Idempotency-Key": key},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return dict(json.loads(response.read()))


REPORT_TURNS = """
return Array.from(document.querySelectorAll('#transcript .turn.trainee')).map(function (t) {
  return [t.id, t.dataset.turn || null, t.querySelector('.speaker').textContent,
          t.querySelector('.turn-text').textContent];
});
"""

TURN_LINKS = """
return Array.from(document.querySelectorAll('#spikes a.turn-ref, #moments a.turn-ref, #rubric a.turn-ref')).map(
  function (a) {
    var target = document.querySelector(a.getAttribute('href'));
    return [a.textContent, a.getAttribute('href'), target ? target.className : null,
            target ? target.querySelector('.turn-text').textContent : null];
  });
"""

RED = "rgba(179, 38, 30, 1)"  # --bad-line, the colour of a failing bar
GREEN = "rgba(35, 122, 70, 1)"  # --good-line
WHERE = """
var fill = arguments[0], dim = fill.closest('.dim'), turn = fill.closest('.turn');
return [dim ? dim.textContent : '', turn ? turn.querySelector('.turn-text').textContent : 'session means'];
"""


def test_a_perfect_spikes_report_shows_no_red_bars_and_the_trainees_turn_numbers(
    stack: dict[str, Any], browser: Any
) -> None:
    from selenium.webdriver.common.by import By

    from tests.test_reports import NEWS_PERFECT

    # The seed fixes which line the patient picks from each pool, so the session is the one tests/test_reports.py
    # plays without Rasa (seed 3, gentle): every SPIKES step done, the patient agreeing the plan.
    start = {"display_name": "Browser Trainee", "scenario_id": "difficult-news", "difficulty": "gentle", "seed": 3}
    session_id = _post(stack, "/api/sessions", start, "perfect-start-0001")["session"]["id"]
    path = f"/api/sessions/{session_id}"
    for i, text in enumerate(NEWS_PERFECT):
        if i == 3:  # a hint between replies: a command to the app, not a turn of the conversation
            _post(stack, path + "/commands", {"command": "hint"}, f"perfect-{session_id}-hint")
        body = _post(stack, path + "/messages", {"text": text}, f"perfect-{session_id}-{i}")
    assert body["session"]["status"] == "ended" and body["session"]["ended_by"] == "patient"

    browser.get(f"{stack['base']}/report.html?id={session_id}")
    _wait(browser).until(lambda d: _count(d, "#spikes .check-item") == 8)
    steps = browser.find_elements(By.CSS_SELECTOR, "#spikes .check-item")
    assert all("st-done" in s.get_attribute("class") for s in steps), [s.text for s in steps]
    # No red bar anywhere: neither the session's means nor any turn's score card.
    fills = browser.find_elements(By.CSS_SELECTOR, "#report .meter-fill")
    assert len(fills) == 3 + 3 * len(NEWS_PERFECT)
    red = [
        browser.execute_script(WHERE, f)
        for f in fills
        if {"level-0", "level-1"} & set(f.get_attribute("class").split())
        or f.value_of_css_property("background-color") == RED
    ]
    assert not red, red
    # The same colour check does catch a red bar: a low score drawn on the page is red.
    browser.execute_script(
        "document.getElementById('dimensions').appendChild("
        "Rapport.dimensionMeter('Probe', {score: 1, max: 4, applicable: true}))"
    )
    probe = browser.find_elements(By.CSS_SELECTOR, "#dimensions .meter-fill")[-1]
    assert probe.value_of_css_property("background-color") == RED
    # And full marks are green, on the 0-4 scale and on any other maximum.
    for score, top in ((4, 4), (2, 2)):
        browser.execute_script(
            "document.getElementById('dimensions').appendChild("
            "Rapport.dimensionMeter('Probe', {score: arguments[0], max: arguments[1], applicable: true}))",
            score,
            top,
        )
        probe = browser.find_elements(By.CSS_SELECTOR, "#dimensions .meter-fill")[-1]
        assert probe.value_of_css_property("background-color") == GREEN, (score, top)

    # The transcript numbers the trainee's replies 1, 2, 3..., whatever sits between them.
    replies = browser.execute_script(REPORT_TURNS)
    numbered = [r for r in replies if r[1] is not None]
    assert len(replies) == len(NEWS_PERFECT) + 1  # the hint is there, unnumbered
    assert [int(r[1]) for r in numbered] == list(range(1, len(NEWS_PERFECT) + 1))
    assert [r[0] for r in numbered] == [f"turn-{n}" for n in range(1, len(NEWS_PERFECT) + 1)]
    assert all(r[2].endswith(f"turn {n}") for n, r in enumerate(numbered, start=1))
    assert [r[3] for r in numbered] == NEWS_PERFECT
    # Every turn the report names leads to that reply in the transcript.
    links = browser.execute_script(TURN_LINKS)
    assert len(links) >= 10
    for text, href, target, words in links:
        n = int(text.split()[-1])
        assert href == f"#turn-{n}" and "trainee" in (target or "") and words == NEWS_PERFECT[n - 1], (text, href)
    moments = browser.find_elements(By.CSS_SELECTOR, "#moments .moment a.turn-ref")
    assert len(moments) == 2 and moments[0].text != moments[1].text
    # MITI's bands are not shown for breaking news: its counts only, and why.
    assert not browser.find_elements(By.CSS_SELECTOR, "#miti .band")
    assert "not used here" in browser.find_element(By.ID, "instruments").text


def test_the_mi_scenario_report_shows_miti_bands_and_no_spikes(stack: dict[str, Any], browser: Any) -> None:
    from selenium.webdriver.common.by import By

    start = {"display_name": "Browser Trainee", "scenario_id": "ambivalence-drinking", "seed": 3}
    session_id = _post(stack, "/api/sessions", start, "mi-start-00001")["session"]["id"]
    replies = ["What brings you in today?", "It sounds like part of you is worried about the drinking."]
    for i, text in enumerate(replies):
        _post(stack, f"/api/sessions/{session_id}/messages", {"text": text}, f"mi-{session_id}-{i}")
    _post(stack, f"/api/sessions/{session_id}/end", {}, f"mi-{session_id}-end")
    browser.get(f"{stack['base']}/report.html?id={session_id}")
    _wait(browser).until(lambda d: _count(d, "#miti .miti-table tbody tr") >= 4)
    assert not browser.find_elements(By.ID, "spikes")  # no news is broken: no SPIKES checklist, not even empty
    assert "SPIKES checklist: not used here" in browser.find_element(By.ID, "instruments").text
    miti = browser.find_element(By.ID, "miti")
    assert miti.find_elements(By.CSS_SELECTOR, ".band-good, .band-fair, .band-below, .band-none")
    assert "Session quality" in miti.text and "not norms" in miti.text
    assert browser.find_element(By.ID, "rubric-heading").text == "MITI codes and change talk"
