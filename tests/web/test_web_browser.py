"""The page in a real browser: Debian's Chromium, headless, driven by Playwright.

The server runs under uvicorn on a free loopback port in a thread. Screenshots go to
``tests/artifacts/`` (not committed). Without Chromium or Playwright these tests fail in CI
(``CI=true``) and skip elsewhere, saying how to install them (``make browser``).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from web_samples import NOTE, PARALLEL, compare_json

from toksmith.report.html import render_compare_html
from toksmith.tokenizers import load_tokenizer
from toksmith.web import WebRoots, create_app

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PLAYGROUND_TEXT = "Hello wörld!\n\tnaïve 🤗 done"
DEFAULT_TOKENIZERS = ["o200k_base", "cl100k_base", "llama3", "mistral-tekken"]


def missing(reason: str) -> None:
    message = f"browser tests need {reason}: run `make browser` (apt-get install chromium)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def chromium_path() -> str:
    for candidate in ("chromium", "chromium-browser"):
        found = shutil.which(candidate)
        if found:
            return found
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    missing("Debian's chromium")
    raise AssertionError("unreachable")


@pytest.fixture(scope="module")
def base_url(web_roots: WebRoots) -> Iterator[str]:
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(create_app(web_roots), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started:
        if time.time() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the playwright Python package (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_playground_colors_each_token_and_counts_them(page, base_url: str):
    page.goto(f"{base_url}/#playground")
    page.wait_for_selector(".panel .tok")
    page.fill("#text", "")
    page.type("#text", PLAYGROUND_TEXT, delay=5)  # keystrokes: the debounced live update
    expected = {
        name: len(load_tokenizer(name).encode(PLAYGROUND_TEXT)) for name in DEFAULT_TOKENIZERS
    }
    for name, count in expected.items():
        panel = f'.panel[data-tokenizer="{name}"]'
        page.wait_for_function(  # the last keystroke's update is drawn
            """([panel, count]) => {
                const tokens = document.querySelectorAll(panel + ' .tok');
                const drawn = Array.from(tokens, (t) => t.textContent).join('');
                return tokens.length === count && drawn.endsWith('done');
            }""",
            arg=[panel, count],
        )
        shown = page.inner_text(f'{panel} [data-stat="tokens"] b')
        assert int(shown.replace(",", "")) == count
    # neighbouring tokens get different background colours
    colors = page.eval_on_selector_all(
        '.panel[data-tokenizer="o200k_base"] .tok',
        "nodes => nodes.slice(0, 4).map(n => getComputedStyle(n).backgroundColor)",
    )
    assert all(a != b for a, b in zip(colors, colors[1:], strict=False))
    # a split emoji shows its stray bytes; spaces, tabs and newlines are visible
    partial = page.inner_text('.panel[data-tokenizer="cl100k_base"] .tok.partial >> nth=0')
    assert any(byte in partial for byte in ("F0", "9F", "A4", "97"))
    whitespace = page.eval_on_selector_all(".panel .ws", "nodes => nodes.map(n => n.textContent)")
    assert {"·", "→", "↵"} <= set(whitespace)
    screenshot(page, "playground.png")


def test_hovering_a_token_shows_its_id_and_bytes(page, base_url: str):
    page.goto(f"{base_url}/#playground")
    page.fill("#text", "🤗")
    ids = load_tokenizer("cl100k_base").encode("🤗")
    selector = '.panel[data-tokenizer="cl100k_base"] .tok.partial'
    page.wait_for_function(  # the debounced update has replaced the first text's tokens
        "([s, n]) => document.querySelectorAll(s).length === n", arg=[selector, len(ids)]
    )
    page.hover(f"{selector} >> nth=0")
    tooltip = page.wait_for_selector("#tooltip:not([hidden])")
    text = tooltip.inner_text()
    assert str(ids[0]) in text
    assert "F0 9F" in text


def test_compare_view_runs_a_job_and_draws_the_charts(page, base_url: str):
    page.goto(f"{base_url}/#compare")
    page.wait_for_selector("#corpus option[value='corpus:parallel']", state="attached")
    page.select_option("#corpus", "corpus:parallel")
    assert page.input_value("#reference") == "eng"
    page.click("#compare-run")
    page.wait_for_selector("#compare-links:not([hidden])", timeout=60_000)
    cells = len(DEFAULT_TOKENIZERS) * len(PARALLEL)
    assert page.locator("svg.bar-chart rect.bar").count() == cells
    assert page.locator("svg.heatmap rect.cell").count() == cells
    assert page.locator("table.sortable tbody tr").count() == cells
    # the table sorts by a clicked column, both ways
    column = page.eval_on_selector_all(
        "table.sortable th", "ths => ths.findIndex(th => th.dataset.key === 'tokens') + 1"
    )
    cells = f"table.sortable tbody tr td:nth-child({column})"
    page.click("table.sortable th[data-key='tokens']")
    first = page.eval_on_selector_all(cells, "t => t.map(c => c.textContent)")
    numbers = [int(value.replace(",", "")) for value in first]
    assert numbers == sorted(numbers)
    page.click("table.sortable th[data-key='tokens']")
    again = page.eval_on_selector_all(cells, "t => t.map(c => c.textContent)")
    assert [int(value.replace(",", "")) for value in again] == sorted(numbers, reverse=True)
    screenshot(page, "compare.png")


def test_results_view_renders_compare_json_as_charts_and_other_json_as_tables(page, base_url):
    page.goto(f"{base_url}/#results/compare.json")
    page.wait_for_selector("svg.heatmap rect.cell")
    assert page.locator("svg.heatmap rect.cell").count() == 6
    screenshot(page, "results-compare.png")
    page.click("a[data-path='runs/train.json']")
    page.wait_for_function(
        "document.getElementById('result-title').textContent === 'runs/train.json'"
    )
    assert page.locator("#result-view table.data tbody tr").count() == 2


def test_compare_view_shows_unknown_tokens_the_premium_interval_and_warnings(page, base_url):
    page.goto(f"{base_url}/#results/compare.json")
    page.wait_for_selector("table.sortable tbody tr")
    headers = page.eval_on_selector_all("table.sortable th", "ths => ths.map(th => th.dataset.key)")
    assert {
        "unknown_token_ratio",
        "byte_fallback_ratio",
        "premium_ci_low",
        "premium_median",
    } <= set(headers)
    page.fill("input.filter", "beta")
    row = page.locator("table.sortable tbody tr", has_text="rus")
    cells = row.locator("td").all_inner_texts()
    assert cells[headers.index("unknown_token_ratio")] == "12.00%"
    assert cells[headers.index("premium_ci_low")] == f"{1.9 * 0.95:.3f}–{1.9 * 1.05:.3f}"
    assert cells[headers.index("premium_median")] == f"1.900 [{1.9 * 0.9:.3f}–{1.9 * 1.1:.3f}]"
    # the warnings of the result are shown, and beta is not called cheapest where it has
    # the fewest tokens only through unknown tokens
    assert NOTE in page.inner_text(".notes")
    heat = page.locator('svg.heatmap rect.cell[data-tokenizer="alpha"][data-language="fra"] title')
    assert "95% CI" in heat.text_content()
    screenshot(page, "compare-parity.png")


def test_tokenizer_pickers_offer_the_whitespace_baseline(page, base_url: str):
    page.goto(f"{base_url}/#compare")
    page.wait_for_selector("#compare-tokenizers input[value='ws:']", state="attached")


def test_html_report_draws_its_charts_offline(page, tmp_path: Path):
    requests: list[str] = []
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith("file:")
            else (requests.append(route.request.url), route.abort())
        ),
    )
    report = tmp_path / "report.html"
    report.write_text(render_compare_html(compare_json()), encoding="utf-8")
    page.goto(report.as_uri())
    page.wait_for_selector("svg.bar-chart rect.bar")
    assert page.locator("svg.heatmap rect.cell").count() == 6
    assert requests == []
    screenshot(page, "report.png")
