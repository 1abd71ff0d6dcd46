"""`newsearch serve` in a real headless Chromium, driven by Selenium: what a
reader does with the keyboard and the mouse, at phone and laptop width.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them).
Where they are missing the tests fail under CI (``CI`` set), and are skipped
with the reason elsewhere, so a laptop without Chromium still runs the rest.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from tests.test_server import DEADLINE, index_dir, serving  # noqa: F401 - index_dir is a fixture

PHONE = (375, 812)
LAPTOP = (1366, 768)
MISSING = ("Chromium and its driver are not installed: run `.ci/run` (as root), or "
           "`apt-get install chromium chromium-driver`")


def chromium_paths() -> tuple[str, str]:
    """The browser and driver from Debian's packages: Selenium never downloads one."""
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if browser and driver:
        return browser, driver
    if os.environ.get("CI"):
        pytest.fail(f"{MISSING} (CI is set, so the browser tests may not be skipped)", pytrace=False)
    pytest.skip(MISSING)


@contextlib.contextmanager
def chromium() -> Iterator[WebDriver]:
    """A headless Chromium with a fresh profile, closed on exit."""
    browser, driver = chromium_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    options.add_argument("--headless=new")
    options.add_argument("--disable-dev-shm-usage")  # containers give /dev/shm 64 MB
    options.add_argument("--lang=en")
    if os.geteuid() == 0:
        options.add_argument("--no-sandbox")  # Chromium's sandbox refuses to run as root
    try:
        session = webdriver.Chrome(options=options, service=Service(driver))
    except WebDriverException as e:
        pytest.fail(f"Chromium ({browser}) with {driver} did not start: {e.msg}", pytrace=False)
    session.set_page_load_timeout(DEADLINE)
    try:
        yield session
    finally:
        session.quit()


def viewport(session: WebDriver, size: tuple[int, int]) -> None:
    """The page's viewport in CSS pixels, as a phone (touch, ``<meta viewport>``) or a laptop."""
    width, height = size
    session.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})


@pytest.fixture(scope="module")
def server(index_dir, tmp_path_factory) -> Iterator[str]:  # noqa: F811 - the imported fixture
    with serving(index_dir, tmp_path_factory.mktemp("log") / "server.log", "--workers", "1") as url:
        yield url


@pytest.fixture(scope="module")
def session() -> Iterator[WebDriver]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def browser(session: WebDriver) -> WebDriver:
    """The shared browser, at laptop width."""
    viewport(session, LAPTOP)
    return session


def wait(session: WebDriver, condition: Callable[[WebDriver], object], what: str) -> object:
    return WebDriverWait(session, DEADLINE).until(condition, f"gave up waiting for {what}")


def navigate(session: WebDriver, action: Callable[[], object]) -> None:
    """Does ``action`` and waits until the page it leads to has loaded: a
    document without the mark set on the one before, complete. While Chromium
    swaps documents, a question about the old one may fail with an error
    other than "stale" (a node "does not belong to the document"), so the
    mark is asked about, and errors in between are polled past. Each mark is
    new: the back button restores a page as it was, with the mark it had."""
    mark = uuid.uuid4().hex
    session.execute_script("document.documentElement.dataset.left = arguments[0]", mark)
    action()
    WebDriverWait(session, DEADLINE, ignored_exceptions=(WebDriverException,)).until(
        lambda s: s.execute_script(
            "return document.readyState === 'complete' && document.documentElement.dataset.left !== arguments[0]",
            mark),
        "gave up waiting for the next page")


def state(session: WebDriver) -> dict[str, list[str]]:
    """The query string of the page shown."""
    return parse_qs(urlsplit(session.current_url).query)


def texts(session: WebDriver, selector: str) -> list[str]:
    return [e.text for e in session.find_elements(By.CSS_SELECTOR, selector)]


def one(session: WebDriver, selector: str) -> WebElement:
    return session.find_element(By.CSS_SELECTOR, selector)


def read(element: WebElement) -> str:
    """The element's text as a screen reader says it, visually hidden words included."""
    return " ".join(element.get_attribute("textContent").split())


def test_typing_a_query_and_pressing_enter_shows_highlighted_results(browser, server):
    browser.get(server + "/")
    box = browser.switch_to.active_element
    assert box.get_attribute("id") == "q", "the search box has the focus when the page opens"
    navigate(browser, lambda: box.send_keys("marché", Keys.ENTER))
    assert state(browser)["q"] == ["marché"]
    assert one(browser, "#q").get_attribute("value") == "marché"
    assert one(browser, "#results-heading").text == "Results for “marché”"
    assert one(browser, "#summary").text == "24 articles match; showing 1–10."
    hits = browser.find_elements(By.CSS_SELECTOR, "#results li.hit")
    assert len(hits) == 10
    for hit in hits:
        marked = [m.text.lower() for m in hit.find_elements(By.TAG_NAME, "mark")]
        assert marked and set(marked) == {"marché"}, hit.text
        assert hit.find_element(By.CSS_SELECTOR, ".hit-snippet mark").value_of_css_property(
            "background-color") != "rgba(0, 0, 0, 0)", "a highlight is shown in colour"


def test_a_facet_narrows_the_results_pages_turn_and_the_back_button_returns(browser, server):
    browser.get(server + "/?q=march%C3%A9")
    facet = one(browser, "#facet-years a.facet-year[data-value='2023']")
    assert read(facet.find_element(By.XPATH, "following-sibling::span[@class='count']")) == "11 articles"
    navigate(browser, facet.click)
    assert state(browser) == {"q": ["marché"], "since": ["2023-01-01"], "until": ["2023-12-31"]}
    assert one(browser, "#summary").text == "11 articles match; showing 1–10."
    assert "2023-01-01 to 2023-12-31" in one(browser, "#active-filters").text
    assert one(browser, "#since").get_attribute("value") == "2023-01-01"
    first_page = texts(browser, "li.hit h2.hit-title")
    assert all(d.startswith("2023-") for d in
               (t.get_attribute("datetime") for t in browser.find_elements(By.CSS_SELECTOR, ".hit-meta time")))

    navigate(browser, one(browser, "#next-page").click)
    assert state(browser)["page"] == ["2"] and state(browser)["since"] == ["2023-01-01"]
    assert one(browser, "#summary").text == "11 articles match; showing 11–11."
    assert read(one(browser, "a.page-link[aria-current='page']")) == "Page 2"
    assert texts(browser, "li.hit h2.hit-title")[0] not in first_page
    assert one(browser, ".hit-meta time").get_attribute("datetime").startswith("2023-")

    navigate(browser, browser.back)
    assert "page" not in state(browser)
    assert one(browser, "#summary").text == "11 articles match; showing 1–10."
    assert texts(browser, "li.hit h2.hit-title") == first_page
    navigate(browser, browser.back)
    assert state(browser) == {"q": ["marché"]}
    assert one(browser, "#summary").text == "24 articles match; showing 1–10."

    navigate(browser, one(browser, "#facet-sources a.facet-source[data-value='Reuters']").click)
    assert state(browser)["source"] == ["Reuters"]
    assert one(browser, "#summary").text == "9 articles match; showing 1–9."
    assert set(texts(browser, "span.hit-source")) == {"Reuters"}
    navigate(browser, one(browser, "#remove-source").click)
    assert state(browser) == {"q": ["marché"]}


def test_an_article_opens_highlighted_and_a_similar_one_follows(browser, server):
    browser.get(server + "/?q=commer%C3%A7ants")
    link = one(browser, "li.hit h2.hit-title a")
    title = link.text
    navigate(browser, link.click)
    assert urlsplit(browser.current_url).path.startswith("/articles/")
    assert one(browser, "#article-title").text == title
    assert {m.text for m in browser.find_elements(By.CSS_SELECTOR, "#article-body mark")} == {"commerçants"}
    similar = browser.find_elements(By.CSS_SELECTOR, "#similar-list a.similar-link")
    assert len(similar) == 5 and title not in [s.text for s in similar]

    other = similar[0].text
    navigate(browser, similar[0].click)
    assert one(browser, "#article-title").text == other != title
    assert state(browser)["q"] == ["commerçants"], "the query follows the reader from article to article"
    assert browser.find_elements(By.CSS_SELECTOR, "#article-body mark")

    navigate(browser, one(browser, "#back-to-results").click)
    assert state(browser) == {"q": ["commerçants"]}
    assert one(browser, "#q").get_attribute("value") == "commerçants"


def layout(session: WebDriver) -> dict[str, float]:
    """Where things are on the page shown, in CSS pixels."""
    return session.execute_script("""
        const box = s => { const e = document.querySelector(s); return e && e.getBoundingClientRect(); };
        const q = box('#q'), hit = box('li.hit'), facets = box('#facets'), button = box('#search-button');
        return {inner: window.innerWidth, height: window.innerHeight,
                scroll: document.documentElement.scrollWidth,
                q_left: q.left, q_width: q.width, q_top: q.top, button_right: button.right, button_top: button.top,
                hit_top: hit ? hit.top : null, hit_left: hit ? hit.left : null, hit_right: hit ? hit.right : null,
                facets_left: facets ? facets.left : null, facets_top: facets ? facets.top : null};
    """)


PAGES = ["/", "/?q=march%C3%A9", "/?q=march%C3%A9&since=2023-01-01&until=2023-12-31&source=AFP&sort=date",
         "/articles/m03?q=march%C3%A9", "/articles/dossiers%2F2023%2Fgr%C3%A8ve?q=Poutine", "/?q=Poutinne",
         "/articles/nope"]


@pytest.mark.parametrize("path", PAGES)
def test_phone_width_shows_the_box_and_results_without_sideways_scrolling(session, server, path):
    viewport(session, PHONE)
    session.get(server + path)
    box = layout(session)
    assert box["inner"] == PHONE[0]
    assert box["scroll"] <= box["inner"], f"{path} scrolls sideways on a phone: {box}"
    assert 0 <= box["q_left"] and box["button_right"] <= box["inner"] and box["q_width"] >= 150, box
    assert box["button_top"] == box["q_top"], "the Search button is beside the box, not under it"
    assert one(session, "#q").is_displayed() and one(session, "#search-button").is_displayed()
    if path.startswith("/?q=march"):
        assert box["hit_left"] >= 0 and box["hit_right"] <= box["inner"], box
        assert box["hit_top"] < box["height"], "the first result shows without scrolling"
        assert box["facets_top"] > box["hit_top"], "the facets come after the results, in one column"


def test_laptop_width_puts_the_facets_beside_the_results(browser, server):
    browser.get(server + "/?q=march%C3%A9")
    box = layout(browser)
    assert box["inner"] == LAPTOP[0] and box["scroll"] <= box["inner"], box
    assert box["facets_left"] > box["hit_right"], "facets in a column to the right of the results"
    assert box["hit_top"] < box["height"] / 2, "the results start in the upper half of the screen"
    assert one(browser, "#q").is_displayed()


UNLABELLED = """
    return [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
        .map(e => [e.id, e.labels && e.labels.length ? e.labels[0].innerText.trim()
                         : (e.getAttribute('aria-label') || e.innerText || '').trim()]);
"""


@pytest.mark.parametrize("path, fields", [
    ("/", {"q", "search-button", "since", "until", "source", "sort", "collapse"}),
    ("/?q=march%C3%A9", {"q", "search-button", "since", "until", "source", "sort", "collapse"}),
    ("/articles/m03?q=march%C3%A9", {"q", "search-button"}),
])
def test_every_field_has_a_label(browser, server, path, fields):
    browser.get(server + path)
    named = dict(browser.execute_script(UNLABELLED))
    assert set(named) == fields
    assert all(named.values()), f"fields without a label: {[k for k, v in named.items() if not v]}"


FOCUS = """
    const e = document.activeElement, s = getComputedStyle(e), r = e.getBoundingClientRect();
    return {id: e.id, tag: e.tagName, cls: e.className, text: (e.innerText || '').trim().slice(0, 40),
            outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0, shadow: s.boxShadow !== 'none',
            top: r.top, bottom: r.bottom, height: window.innerHeight};
"""


def test_tab_moves_through_the_page_with_the_focus_always_visible(browser, server):
    browser.get(server + "/?q=march%C3%A9")
    seen = []
    for _ in range(80):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        focused = browser.execute_script(FOCUS)
        if focused["tag"] == "BODY" or (seen and focused == seen[0]):
            break
        if not seen or focused != seen[-1]:  # a date field steps through its day, month and year
            seen.append(focused)
    assert seen[0]["text"] == "Skip to content" and 0 <= seen[0]["top"] < seen[0]["height"], \
        "the skip link comes first and shows when focused"
    invisible = [f for f in seen if not (f["outline"] or f["shadow"])]
    assert not invisible, f"focus not shown on {invisible}"
    ids = [f["id"] for f in seen if f["id"]]
    assert ids[:6] == ["q", "search-button", "since", "until", "source", "sort"]
    assert "next-page" in ids and sum("facet" in f["cls"] for f in seen) == 5

    browser.get(server + "/?q=march%C3%A9")
    ActionChains(browser).send_keys(Keys.TAB).send_keys(Keys.ENTER).perform()
    wait(browser, lambda s: urlsplit(s.current_url).fragment == "main", "the skip link to be followed")
    ActionChains(browser).send_keys(Keys.TAB).perform()
    assert browser.switch_to.active_element.text.startswith(one(browser, "li.hit h2.hit-title a").text), \
        "after the skip link, Tab goes to the first result"

