"""The rendered book as a reader's browser shows it: headless Chromium opens every page.

Needs the built book (`make book`; `make test` builds it first) and Debian's Chromium with its
driver (`sudo make system-packages` installs them; `make test` does as root). Without them the
tests fail, saying what to run: a skipped test goes unnoticed. All are marked `book`
(tests/conftest.py): `pytest -m "not book"` leaves them out.

One pass over the pages collects, per page: console errors, math left as raw TeX, images that
did not load, links, code cells with an error or stderr output, the search and navigation
checks, and what every chapter must have (its objectives, a summary, an architecture diagram
with alt text, no display equation wider than its column at 1280 px nor at 400 px, no study
note called a "seed"); the tests below each assert one of them. A screenshot of every page is saved into
``_build/screenshots/`` for review. Hangul in figures is checked against the chapters' executions
in the build's cache: no missing-glyph warning, and a glyph for every Hangul character used.
"""
from __future__ import annotations

import base64
import functools
import http.server
import json
import re
import shutil
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT
from tests.test_sources import seed_wording

HTML = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
CACHE = ROOT / "_build" / ".jupyter_cache"
INSTALL = "run `sudo make system-packages` (tools/system-packages.sh lists the packages)"
NOT_BUILT = "the book is not built: run `make book` (make test builds it first)"

# one word or phrase the book's search must find on each chapter's page
SEARCH_TERMS = {
    "book/01-rnn-taxonomy": "taxonomy",
    "book/02-encoder-context": "bottleneck",
    "book/03-greedy-decoding": "greedy",
    "book/04-teacher-forcing": "exposure",
    "book/05-attention": "Bahdanau",
    "book/06-transformer": "positional",
    "book/07-bert": "WordPiece",
    "book/08-t5-bart": "sentinel",
}


@dataclass
class Page:
    path: str  # relative to _build/html
    console_errors: list[str] = field(default_factory=list)
    raw_math: list[str] = field(default_factory=list)
    broken_images: list[str] = field(default_factory=list)
    output_images: int = 0
    links: list[str] = field(default_factory=list)
    bad_outputs: list[str] = field(default_factory=list)
    prev_next: tuple[str | None, str | None] = (None, None)
    objectives: list[dict] = field(default_factory=list)  # title, items, before_sections of each
    sections: list[str] = field(default_factory=list)  # the article's h2 headings, in order
    summary: str = ""  # the text of the section headed Summary
    diagrams: list[dict] = field(default_factory=list)  # id and the alt texts of its images
    prose: str = ""  # the article's text outside code
    paragraphs: str = ""  # its paragraphs, headings, captions and table cells: no code, math, outputs or bibliography
    lang: str = ""  # the <html> element's lang attribute
    wide_math: dict[int, list[str]] = field(default_factory=dict)  # window width -> equations wider than the column


def toc_pages() -> list[str]:
    """The book's pages in reading order, from _toc.yml (without .md)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    pages = [toc["root"]]
    for part in toc.get("parts", []):
        pages += [chapter["file"] for chapter in part["chapters"]]
    return pages


def _need_browser() -> tuple[str, str]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.fail(f"Chromium or chromedriver not found: {INSTALL}")
    if not (HTML / "index.html").exists():
        pytest.fail(NOT_BUILT)
    return chromium, driver


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep the test output clean
        pass


@pytest.fixture(scope="module")
def server():
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    chromium, driver_path = _need_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1400",
                "--disable-dev-shm-usage", "--lang=en-US"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


# Everything the tests need from one page, gathered in the page itself.
COLLECT = r"""
const done = arguments[arguments.length - 1];
const ready = (window.MathJax && MathJax.startup && MathJax.startup.promise) ? MathJax.startup.promise : Promise.resolve();
const images = () => Promise.all([...document.images].map(img => img.complete ? null :
    new Promise(r => { img.onload = img.onerror = r; })));
const heading = h => { const c = h.cloneNode(true); c.querySelectorAll(".headerlink").forEach(x => x.remove());
                        return c.textContent.trim(); };
const chapter = () => {
  const article = document.querySelector("article.bd-article") || document.querySelector("main") || document.body;
  const h2s = [...article.querySelectorAll("h2")];
  const summary = h2s.find(h => heading(h) === "Summary");
  const prose = article.cloneNode(true);
  const code = '.cell_input, script, style, code, .headerlink, mjx-container, div[class*="highlight-"]:not(.output)';
  prose.querySelectorAll(code).forEach(x => x.remove());
  return {
    objectives: [...article.querySelectorAll(".admonition.objectives")].map(a => ({
      title: (a.querySelector(".admonition-title") || {}).textContent || "",
      items: a.querySelectorAll(":scope > ul > li, :scope > ol > li").length,
      before_sections: !h2s.length || !!(a.compareDocumentPosition(h2s[0]) & Node.DOCUMENT_POSITION_FOLLOWING),
    })),
    sections: h2s.map(heading),
    summary: summary ? summary.parentElement.textContent : "",
    diagrams: [...article.querySelectorAll('figure[id^="diagram-"]')].map(f => ({
      id: f.id, alts: [...f.querySelectorAll("img")].map(img => (img.getAttribute("alt") || "").trim()),
    })),
    prose: prose.textContent,
    paragraphs: [...prose.querySelectorAll("p, li, dt, dd, th, td, figcaption, h1, h2, h3, h4, .admonition-title")]
      .filter(e => !e.closest(".cell_output, .output, pre, .language-switch, .citation")).map(e => e.textContent).join("\n"),
    lang: document.documentElement.getAttribute("lang") || "",
  };
};
Promise.all([ready, images()]).then(() => {
  const text = el => (el.textContent || "").trim().slice(0, 80);
  done({
    raw_math: [...document.querySelectorAll(".math")].filter(el => !el.querySelector("mjx-container")).map(text),
    broken_images: [...document.images].filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.getAttribute("src")),
    output_images: [...document.querySelectorAll(".cell_output img")].filter(img => img.naturalWidth > 0).length,
    links: [...document.querySelectorAll("a[href]")].map(a => a.getAttribute("href")),
    bad_outputs: [...document.querySelectorAll(".cell_output .stderr, .cell_output .traceback, .output.stderr, .output.traceback")].map(text),
    prev: (document.querySelector("a.left-prev") || {}).href || null,
    next: (document.querySelector("a.right-next") || {}).href || null,
    ...chapter(),
  });
}).catch(e => done({error: String(e)}));
"""


# Display equations wider than the content column, as MathJax rendered them: the math's own box
# (not its scrollable container, which hides what runs off) against the article's content width,
# or the window's where the article is wider than the window. Folded solutions are opened first.
WIDE_MATH = r"""
const article = document.querySelector("article.bd-article") || document.querySelector("main") || document.body;
const opened = [...document.querySelectorAll("details:not([open])")];
opened.forEach(d => d.open = true);
const style = getComputedStyle(article);
const column = Math.min(article.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight),
                        document.documentElement.clientWidth);
const width = c => Math.max(c.scrollWidth, ...[...c.querySelectorAll(":scope > mjx-math")]
                                                .map(m => m.getBoundingClientRect().width));
const text = c => ((c.querySelector("mjx-assistive-mml") || c).textContent || "").trim().slice(0, 80);
const wide = [...article.querySelectorAll('mjx-container[display="true"]')].filter(c => c.offsetParent !== null)
  .filter(c => width(c) > column + 1)
  .map(c => `${Math.round(width(c))} px > ${Math.round(column)} px: ${text(c)}`);
opened.forEach(d => d.open = false);
return wide;
"""
NARROW = 400  # a phone's width, in CSS pixels


def _wide_math(driver) -> dict[int, list[str]]:
    """The display equations wider than their column, at the window's width (1280) and at NARROW."""
    found = {1280: driver.execute_script(WIDE_MATH)}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": NARROW, "height": 900, "deviceScaleFactor": 1, "mobile": True})
    try:
        time.sleep(0.2)  # the theme's responsive layout settles
        found[NARROW] = driver.execute_script(WIDE_MATH)
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return found


def _screenshot(driver, path: Path) -> None:
    """The whole page (up to 16,000 CSS pixels high), 1280 wide, at half scale, as a PNG."""
    height = min(int(driver.execute_script("return document.documentElement.scrollHeight")), 16000)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 1280, "height": height, "deviceScaleFactor": 0.5, "mobile": False})
    try:
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))


@pytest.fixture(scope="module")
def pages(browser, server) -> dict[str, Page]:
    browser.set_script_timeout(60)
    found: dict[str, Page] = {}
    html_files = sorted(p.relative_to(HTML).as_posix() for p in HTML.rglob("*.html")
                        if not any(part.startswith(("_", ".")) for part in p.relative_to(HTML).parts))
    for rel in html_files:
        browser.get(f"{server}/{rel}")
        if browser.current_url != f"{server}/{rel}":  # a redirect (index.html -> the first page): checked there
            browser.get_log("browser")
            continue
        page = Page(rel)
        data = browser.execute_async_script(COLLECT)
        assert "error" not in data, f"{rel}: {data.get('error')}"
        page.raw_math, page.broken_images = data["raw_math"], data["broken_images"]
        page.output_images, page.links, page.bad_outputs = data["output_images"], data["links"], data["bad_outputs"]
        page.prev_next = (data["prev"], data["next"])
        page.objectives, page.sections, page.summary = data["objectives"], data["sections"], data["summary"]
        page.diagrams, page.prose = data["diagrams"], data["prose"]
        page.paragraphs, page.lang = data["paragraphs"], data["lang"]
        page.wide_math = _wide_math(browser)
        page.console_errors = [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
        _screenshot(browser, SCREENSHOTS / rel.replace("/", "__").replace(".html", ".png"))
        found[rel] = page
    return found


def test_every_toc_page_was_built_and_opened(pages):
    missing = [f"{p}.html" for p in toc_pages() if f"{p}.html" not in pages]
    assert not missing, f"pages in _toc.yml with no HTML: {missing}"


def test_no_javascript_console_errors(pages):
    errors = {rel: p.console_errors for rel, p in pages.items() if p.console_errors}
    assert not errors, json.dumps(errors, indent=1, ensure_ascii=False)


def test_all_math_is_typeset(pages):
    raw = {rel: p.raw_math[:5] for rel, p in pages.items() if p.raw_math}
    assert not raw, f"math left as raw TeX: {json.dumps(raw, indent=1, ensure_ascii=False)}"


def test_every_image_loads(pages):
    broken = {rel: p.broken_images for rel, p in pages.items() if p.broken_images}
    assert not broken, f"images that did not load: {broken}"


def test_no_code_cell_shows_an_error_or_stderr(pages):
    bad = {rel: p.bad_outputs for rel, p in pages.items() if p.bad_outputs}
    assert not bad, json.dumps(bad, indent=1, ensure_ascii=False)


def _executed_notebooks() -> dict[str, object]:
    """Each page's latest execution, from the build's jupyter-cache (the notebooks in
    _build/jupyter_execute lose their outputs when a page is re-rendered from the cache)."""
    from jupyter_cache import get_cache

    cache = get_cache(str(CACHE))
    latest: dict[str, object] = {}
    for record in cache.list_cache_records():
        try:
            page = Path(record.uri).resolve().relative_to(ROOT).with_suffix("").as_posix()
        except ValueError:
            continue  # a record of another checkout
        if page not in latest or record.created > latest[page].created:
            latest[page] = record
    return {page: cache.get_cache_bundle(record.pk).nb for page, record in latest.items()}


def _figures_made() -> dict[str, int]:
    """Image outputs of each page's latest execution."""
    return {page: sum(1 for cell in nb.cells for out in cell.get("outputs", []) if "image/png" in out.get("data", {}))
            for page, nb in _executed_notebooks().items()}


def test_every_chapter_shows_all_its_figures(pages):
    """As many loaded images in a chapter's outputs as its execution made."""
    made = _figures_made()
    checked = 0
    for page in toc_pages():
        if page not in made:
            continue  # a page without code
        shown = pages[f"{page}.html"].output_images
        assert shown == made[page], f"{page}: {made[page]} figures made, {shown} shown"
        checked += made[page] > 0
    assert checked >= 6, "fewer chapters with figures than the book has: was the book built with its outputs?"


HANGUL = re.compile(r"[\u3131-\u318e\uac00-\ud7a3]")  # compatibility jamo and syllables, as figures draw them


def test_figures_draw_hangul_with_a_font_that_has_it():
    """No Hangul drawn as empty boxes: matplotlib warns 'Glyph ... missing from font' when a figure
    draws a character its fonts lack; no chapter's execution printed that, and the font
    course_lib.plots gives figures has a glyph for every Hangul character the chapters use."""
    from matplotlib.ft2font import FT2Font

    from course_lib.plots import hangul_font_path

    if not CACHE.exists():
        pytest.fail(NOT_BUILT)
    font = FT2Font(str(hangul_font_path()))
    used, figures_with_hangul = set(), 0
    for page, nb in _executed_notebooks().items():
        for cell in nb.cells:
            outputs = cell.get("outputs", [])
            text = cell.source + json.dumps(outputs, ensure_ascii=False)
            assert "missing from font" not in text, f"{page}: a figure lacks a glyph: {cell.source[:200]}"
            used |= set(HANGUL.findall(text))
            figures_with_hangul += any("image/png" in o.get("data", {}) for o in outputs) and bool(HANGUL.search(text))
    assert figures_with_hangul >= 3 and len(used) >= 100, "fewer Hangul figures than the book draws: was it built?"
    missing = sorted(ch for ch in used if font.get_char_index(ord(ch)) == 0)
    assert not missing, f"{hangul_font_path().name} has no glyph for {''.join(missing)}"


def _ids(path: Path) -> set[str]:
    return set(re.findall(r'\sid="([^"]+)"', path.read_text(encoding="utf-8", errors="replace")))


def test_internal_links_lead_somewhere(pages):
    ids: dict[Path, set[str]] = {}
    dead = []
    for rel, page in pages.items():
        base = HTML / rel
        for href in page.links:
            parts = urllib.parse.urlsplit(href)
            if parts.scheme or parts.netloc or href.startswith(("mailto:", "javascript:")):
                continue  # external: launch buttons, repository links
            target = base if not parts.path else (base.parent / urllib.parse.unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                dead.append(f"{rel}: {href}")
                continue
            if parts.fragment and target.suffix == ".html":
                known = ids.setdefault(target, _ids(target))
                if urllib.parse.unquote(parts.fragment) not in known:
                    dead.append(f"{rel}: {href} (no such anchor)")
    assert not dead, "links that lead nowhere:\n" + "\n".join(dead[:30])


def test_previous_and_next_links_follow_the_table_of_contents(pages, server):
    order = toc_pages()
    for i, page in enumerate(order):
        prev, nxt = pages[f"{page}.html"].prev_next
        want_prev = f"{server}/{order[i - 1]}.html" if i > 0 else None
        want_next = f"{server}/{order[i + 1]}.html" if i + 1 < len(order) else None
        if want_prev:
            assert prev == want_prev, f"{page}: previous is {prev}, expected {want_prev}"
        if want_next:
            assert nxt == want_next, f"{page}: next is {nxt}, expected {want_next}"


def _search_misses(browser, server, edition: str, terms: dict[str, str]) -> list[str]:
    """The (term -> page) pairs whose search, in the edition under ``edition`` ("" or "ko/"), does not list the page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    missing = []
    for page, term in terms.items():
        browser.get(f"{server}/{edition}search.html?q={urllib.parse.quote(term)}")
        WebDriverWait(browser, 30).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, "#search-results p.search-summary"))
        time.sleep(0.2)
        hrefs = [a.get_attribute("href") or "" for a in browser.find_elements(By.CSS_SELECTOR, "#search-results ul.search li a")]
        if not any(f"/{edition}{page}.html" in h for h in hrefs):
            missing.append(f"{term!r} -> {edition}{page} (got {len(hrefs)} results)")
    return missing


def test_search_finds_a_term_of_every_chapter(browser, server):
    missing = _search_misses(browser, server, "", SEARCH_TERMS)
    assert not missing, "search did not find: " + "; ".join(missing)


def test_screenshots_cover_every_page(pages):
    shots = {p.name for p in SCREENSHOTS.glob("*.png")}
    missing = [rel for rel in pages if rel.replace("/", "__").replace(".html", ".png") not in shots]
    assert not missing, f"no screenshot for {missing}"


def test_no_output_shows_a_memory_address():
    """'<... at 0x7f...>' in an output changes from build to build: a chapter must show the same text every time."""
    if not (HTML / "index.html").exists():
        pytest.fail(NOT_BUILT)
    found = {}
    for path in sorted(HTML.glob("book/*.html")):
        hits = re.findall(r"[\w.]+ (?:object )?at 0x[0-9a-f]{6,}", path.read_text(encoding="utf-8"))
        if hits:
            found[path.name] = hits[:3]
    assert not found, f"outputs with memory addresses: {found}"


# --- what every chapter has (the conventions of book/README: objectives, summary, diagrams) ---

CHAPTER_PAGES = [p for p in toc_pages() if re.match(r"book/(\d\d-|appendix)", p)]


def _chapter_problems(pages, check) -> dict[str, str]:
    problems = {}
    for page in CHAPTER_PAGES:
        if f"{page}.html" not in pages:
            problems[page] = "no page"
        elif problem := check(pages[f"{page}.html"]):
            problems[page] = problem
    return problems


def test_chapter_pages_are_known():
    assert len(CHAPTER_PAGES) == 9, CHAPTER_PAGES  # chapters 1-8 and the appendix


def _objectives(page: Page) -> str | None:
    if len(page.objectives) != 1:
        return f"{len(page.objectives)} admonitions of class objectives (one, before the first section)"
    (found,) = page.objectives
    if "you will learn to" not in found["title"]:
        return f"objectives titled {found['title']!r}, not 'In this chapter you will learn to'"
    if not 3 <= found["items"] <= 5:
        return f"{found['items']} objectives, not 3 to 5"
    if not found["before_sections"]:
        return "the objectives come after the first section, not after the opening paragraphs"
    return None


def test_every_chapter_opens_with_its_objectives(pages):
    """':::{admonition} In this chapter you will learn to' with ':class: objectives' and 3-5 items,
    after the opening paragraphs and before the first section."""
    problems = _chapter_problems(pages, _objectives)
    assert not problems, json.dumps(problems, indent=1)


def _summary(page: Page) -> str | None:
    if "Summary" not in page.sections:
        return f"no section headed Summary (sections: {page.sections})"
    if "Exercises" in page.sections and page.sections.index("Summary") > page.sections.index("Exercises"):
        return "the Summary comes after the Exercises"
    if not re.search(r"\d", page.summary.replace("Summary", "", 1)):
        return "the Summary states no number: each result the chapter measured, with its number"
    return None


def test_every_chapter_has_a_summary_before_its_exercises(pages):
    problems = _chapter_problems(pages, _summary)
    assert not problems, json.dumps(problems, indent=1)


def _diagrams(page: Page) -> str | None:
    if not page.diagrams:
        return "no figure whose id starts with diagram- (an architecture diagram, not a plot of numbers)"
    bad = [d["id"] for d in page.diagrams if not d["alts"] or not all(d["alts"])]
    return f"diagrams without an image or its alt text: {bad}" if bad else None


def test_every_chapter_has_an_architecture_diagram_with_alt_text(pages):
    problems = _chapter_problems(pages, _diagrams)
    assert not problems, json.dumps(problems, indent=1)


def test_no_display_math_is_wider_than_its_column_at_1280_or_400_px(pages):
    checked = sum(1280 in p.wide_math and NARROW in p.wide_math for p in pages.values())
    assert checked == len(pages)
    wide = {f"{rel} at {width} px": equations for rel, p in pages.items()
            for width, equations in p.wide_math.items() if equations}
    assert not wide, "display math wider than its column (split it with aligned and \\\\):\n" + json.dumps(
        wide, indent=1, ensure_ascii=False)


def test_no_page_calls_a_study_note_a_seed(pages):
    found = {rel: phrases for rel, p in pages.items() if (phrases := seed_wording(p.prose))}
    assert not found, "a study note called a seed (name it and cite it, see book/sources.md): " + json.dumps(
        found, indent=1, ensure_ascii=False)


def test_sources_page_exists_and_the_intro_links_it(pages):
    assert "book/sources.html" in pages, "book/sources.md is not a page of the book"
    intro = pages[f"{toc_pages()[0]}.html"]
    assert any(urllib.parse.urlsplit(href).path.endswith("sources.html") for href in intro.links), \
        "the intro does not link the sources page"
    assert all(key in pages["book/sources.html"].prose for key in ("세상아", "천천히", "10.3")), \
        "the sources page does not say what the notes hold"


# --- the Korean edition (_build/html/ko/, issue 19): the checks above run over its pages too ---

KOREAN = "ko/"
# one Korean word the Korean edition's search must find on each chapter's page
SEARCH_TERMS_KO = {
    "book/01-rnn-taxonomy": "다대일",
    "book/02-encoder-context": "병목",
    "book/03-greedy-decoding": "탐욕",
    "book/04-teacher-forcing": "교사",
    "book/05-attention": "바다나우",
    "book/06-transformer": "위치",
    "book/07-bert": "마스크",
    "book/08-t5-bart": "노이즈",
}
MIN_HANGUL_SHARE = 0.6  # of the letters in a Korean page's paragraphs: the rest are names, terms and identifiers


def _switch(path: Path) -> str | None:
    found = re.search(r'<a href="([^"]+)"[^>]*class="[^"]*language-switch-link', path.read_text(encoding="utf-8"))
    return found.group(1) if found else None


def test_every_page_has_a_korean_edition_marked_korean(pages):
    missing = [f"{KOREAN}{p}.html" for p in toc_pages() if f"{KOREAN}{p}.html" not in pages]
    assert not missing, f"pages with no Korean edition: {missing}"
    wrong = {rel: p.lang for rel, p in pages.items() if p.lang != ("ko" if rel.startswith(KOREAN) else "en")}
    assert not wrong, f"<html lang> is not the edition's language: {wrong}"


def hangul_share(text: str) -> float:
    """Hangul syllables among the letters of a text (Hangul and Latin)."""
    hangul, latin = len(HANGUL.findall(text)), len(re.findall(r"[A-Za-z]", text))
    return hangul / (hangul + latin) if hangul + latin else 0.0


def test_korean_pages_are_written_in_korean(pages):
    shares = {p: hangul_share(pages[f"{KOREAN}{p}.html"].paragraphs) for p in toc_pages()}
    low = {page: f"{share:.0%}" for page, share in shares.items() if share < MIN_HANGUL_SHARE}
    assert not low, (f"Korean pages whose paragraphs are less than {MIN_HANGUL_SHARE:.0%} Hangul "
                     f"(`make translations`, then translate locales/ko/): {low}")
    english = {p: f"{hangul_share(pages[f'{p}.html'].paragraphs):.0%}" for p in toc_pages()}
    assert all(hangul_share(pages[f"{p}.html"].paragraphs) < 0.2 for p in toc_pages()), english


def test_the_language_switch_leads_to_the_same_page_in_the_other_edition():
    if not (HTML / KOREAN / "index.html").exists():
        pytest.fail(NOT_BUILT)
    wrong = []
    for page in toc_pages():
        for here, there in ((HTML / f"{page}.html", HTML / KOREAN / f"{page}.html"),
                            (HTML / KOREAN / f"{page}.html", HTML / f"{page}.html")):
            href = _switch(here)
            if href is None or (here.parent / href).resolve() != there.resolve():
                wrong.append(f"{here.relative_to(HTML)}: switch {href!r}, expected {there.relative_to(HTML)}")
    assert not wrong, "\n".join(wrong)


def test_korean_pages_link_within_the_korean_edition(pages):
    leaving = []
    for rel, page in pages.items():
        if not rel.startswith(KOREAN):
            continue
        switch = _switch(HTML / rel)
        for href in page.links:
            parts = urllib.parse.urlsplit(href)
            if parts.scheme or parts.netloc or not parts.path or href == switch:
                continue
            target = ((HTML / rel).parent / urllib.parse.unquote(parts.path)).resolve()
            if not target.is_relative_to((HTML / KOREAN).resolve()):
                leaving.append(f"{rel}: {href}")
    assert not leaving, "links from the Korean edition into the English one:\n" + "\n".join(leaving[:30])


def test_korean_previous_and_next_links_follow_the_table_of_contents(pages, server):
    order = toc_pages()
    for i, page in enumerate(order):
        prev, nxt = pages[f"{KOREAN}{page}.html"].prev_next
        if i > 0:
            assert prev == f"{server}/{KOREAN}{order[i - 1]}.html", f"{KOREAN}{page}: previous is {prev}"
        if i + 1 < len(order):
            assert nxt == f"{server}/{KOREAN}{order[i + 1]}.html", f"{KOREAN}{page}: next is {nxt}"


def test_korean_search_finds_a_korean_term_of_every_chapter(browser, server):
    assert set(SEARCH_TERMS_KO) == set(SEARCH_TERMS)
    missing = _search_misses(browser, server, KOREAN, SEARCH_TERMS_KO)
    assert not missing, "the Korean edition's search did not find: " + "; ".join(missing)


NAV_CAPTION = re.compile(r'<p[^>]*class="caption"[^>]*><span class="caption-text">([^<]*)')
NAV_ENTRY = re.compile(r'<li class="toctree-l1[^"]*"><a class="reference internal" href="[^"]*">([^<]*)</a>')


def test_the_korean_sidebar_names_the_parts_and_chapters_in_korean():
    """The table of contents of every Korean page: the part captions (inserted after Sphinx
    translates a page, so translated by book/_ext/language_switch.py) and the chapter titles."""
    if not (HTML / KOREAN / "index.html").exists():
        pytest.fail(NOT_BUILT)
    english = []
    for page in toc_pages():
        text = (HTML / KOREAN / f"{page}.html").read_text(encoding="utf-8")
        captions, entries = NAV_CAPTION.findall(text), NAV_ENTRY.findall(text)
        assert captions and entries, f"{KOREAN}{page}: no table of contents found"
        english += [f"{KOREAN}{page}: {name!r}" for name in captions + entries
                    if not HANGUL.search(name) and not re.fullmatch(r"\d+\. [A-Z0-9 ]+", name)]  # 7. BERT
    assert not english, "English in the Korean table of contents:\n" + "\n".join(sorted(set(english))[:20])
