"""The step-through page as Jupyter shows it, in a real headless Chromium.

The seed notebook's neuron is built with backprop Values and labels, and
``draw_dot(o)._repr_html_()`` (an ``<iframe srcdoc>``) is put in a minimal
HTML document, as a notebook output cell would be. The keyboard steps the
page inside the iframe to the end, where the gradients it shows must equal
those of ``backprop grad --json`` (the Rust CLI, run as a subprocess) for the
same program in the expression language. The page must log no console error
and make no network request.

Needs Chromium (``CHROMIUM``, default ``/usr/bin/chromium``), the CLI
(``BACKPROP_BIN``, default ``target/release/backprop``) and the ``playwright``
Python package (its driver only: the system Chromium is used, no
``playwright install``). A missing one fails the test: CI installs all three.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from support import backprop_bin, notebook_neuron

from backprop import draw_dot

# The seed notebook's neuron in the expression language: the same nodes, the
# names the notebook's labels would have if they were identifiers.
PROGRAM = """x1 = 2
w1 = -3
x2 = 0
w2 = 1
b = 6.8813735870195432
x1w1 = x1*w1
x2w2 = x2*w2
x1w1x2w2 = x1w1 + x2w2
n = x1w1x2w2 + b
o = tanh(n)"""

# The notebook's label for each node -> its name in PROGRAM.
NAMES = {
    "x1": "x1",
    "w1": "w1",
    "x2": "x2",
    "w2": "w2",
    "b": "b",
    "x1*w1": "x1w1",
    "x2*w2": "x2w2",
    "x1*w1 + x2*w2": "x1w1x2w2",
    "n": "n",
    "o": "o",
}

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_bin() -> str:
    exe = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
    found = shutil.which(exe)
    if found is None:
        pytest.fail(
            f"Chromium is missing: {exe} (install the Debian package `chromium`, or set CHROMIUM)"
        )
    return found


def grad_json(program: str) -> dict:
    r = subprocess.run(
        [backprop_bin(), "grad", program, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, f"backprop grad failed ({r.returncode}): {r.stderr}"
    return json.loads(r.stdout)


def notebook_document(cell_html: str) -> str:
    """An output cell's HTML in a minimal page, as Jupyter embeds it."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
        '<title>notebook</title></head>\n<body>\n<div class="output">\n'
        f"{cell_html}\n</div>\n</body>\n</html>\n"
    )


class Chrome:
    """A fresh headless Chromium with one page, recording console errors,
    uncaught exceptions and network requests.

    Requests are taken from two independent places: Playwright's request
    events, which can miss the very first request of a sandboxed iframe's
    process (it is attached to while already running), and Chromium's own
    network log (``--log-net-log``), which sees every request the network
    stack starts and is read once the browser has closed.
    """

    def __init__(self, playwright, exe: str, workdir: Path):
        self.netlog = workdir / "netlog.json"
        self.browser = playwright.chromium.launch(
            executable_path=exe,
            headless=True,
            args=[*CHROMIUM_ARGS, f"--log-net-log={self.netlog}"],
        )
        self.page = self.browser.new_page(viewport={"width": 1280, "height": 900})
        self.errors: list[str] = []
        self.console: list[str] = []
        self.seen: list[str] = []
        self.page.on("console", self.on_console)
        self.page.on("pageerror", lambda e: self.errors.append(f"exception: {e}"))
        self.page.on("request", lambda r: self.seen.append(r.url))

    def on_console(self, m) -> None:
        self.console.append(m.text)
        if m.type in ("error", "assert"):
            self.errors.append(f"console: {m.text}")

    def open(self, path: Path):
        """Opens the document at `path` and returns its iframe's frame."""
        self.page.goto(path.as_uri())
        handle = self.page.wait_for_selector("iframe", state="attached", timeout=30_000)
        frame = handle.content_frame()
        assert frame is not None, "the iframe has no content frame"
        return frame

    def close(self) -> list[str]:
        """Closes the browser; returns the requests pages made over the network
        (not the document itself, the srcdoc, or in-memory blob: and data:)."""
        self.browser.close()
        urls = [u for u in self.seen if not u.startswith(("file:", "about:", "blob:", "data:"))]
        urls += page_requests_in_netlog(self.netlog)
        return sorted(set(urls))


def page_requests_in_netlog(netlog: Path) -> list[str]:
    """The URLs of requests that a page (a file:// document or an opaque
    origin: the sandboxed iframe) started, from Chromium's network log.
    Chromium's own traffic (its initiator is "not an origin") is left out."""
    assert netlog.exists(), f"Chromium wrote no network log at {netlog}"
    log = json.loads(netlog.read_text(encoding="utf-8"))
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = []
    for e in log["events"]:
        params = e.get("params") or {}
        if e["type"] == start and "url" in params:
            initiator = params.get("initiator", "")
            if initiator == "null" or initiator.startswith("file:"):
                urls.append(params["url"])
    return urls


@pytest.fixture
def chrome(tmp_path):
    exe = chromium_bin()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the `playwright` Python package is missing: pip install playwright")
    with sync_playwright() as p:
        # Playwright gives every launch a fresh temporary --user-data-dir.
        c = Chrome(p, exe, tmp_path)
        try:
            yield c
        finally:
            if c.browser.is_connected():
                c.browser.close()


def poll(frame, expression: str, seconds: float):
    """Evaluates `expression` in `frame` until it is truthy or `seconds` pass;
    returns its last value. (Not Playwright's wait_for_function: that polls
    with eval(), which the page's Content-Security-Policy refuses.)"""
    deadline = time.monotonic() + seconds
    while True:
        value = frame.evaluate(expression)
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def wait_ready(frame) -> None:
    expr = "!!document.body && document.body.getAttribute('data-ready') === 'true'"
    status = "(document.getElementById('status') || {}).textContent || ''"
    assert poll(frame, expr, 30), f"the page was not ready in 30 s: {frame.evaluate(status)}"


def step(frame) -> int:
    return frame.evaluate("window.backpropPage.step()")


def expect_step(frame, n: int) -> None:
    """The page is at step `n` (given a few seconds to handle the keys on a
    busy machine)."""
    poll(frame, f"window.backpropPage.step() === {n}", 10)
    assert step(frame) == n


def shown_nodes(frame) -> list[tuple[str, str, str, str]]:
    """Each value record: its label, data and grad fields as shown, and the
    full gradient the page holds for it."""
    return [
        tuple(r)
        for r in frame.evaluate(
            """Array.from(document.querySelectorAll('g.node[id^="n"]')).map(g => {
                 const t = g.querySelectorAll('text');
                 return [t[0].textContent, t[1].textContent, t[2].textContent,
                         g.getAttribute('data-grad')];
               })"""
        )
    ]


def test_the_harness_sees_errors_and_requests_inside_a_sandboxed_iframe(chrome, tmp_path):
    # The checks below would pass vacuously if the listeners missed what
    # happens inside an <iframe srcdoc sandbox>; this page does both, at once
    # while it loads (a closed local port: nothing leaves the machine).
    probe = "http://127.0.0.1:59999/probe"
    inner = (
        f"<script>console.error('boom'); "
        f"fetch('{probe}').catch(() => console.log('probe settled'));</script>"
    )
    srcdoc = inner.replace("&", "&amp;").replace('"', "&quot;")
    path = tmp_path / "probe.html"
    path.write_text(
        notebook_document(f'<iframe srcdoc="{srcdoc}" sandbox="allow-scripts"></iframe>'),
        encoding="utf-8",
    )
    chrome.open(path)
    for _ in range(200):
        if "probe settled" in chrome.console:
            break
        chrome.page.wait_for_timeout(50)
    assert "probe settled" in chrome.console, chrome.console
    assert any("boom" in e for e in chrome.errors), chrome.errors
    netlog = chrome.close()
    assert probe in page_requests_in_netlog(chrome.netlog), netlog


def test_keyboard_steps_the_jupyter_page_to_the_gradients_of_grad_json(chrome, tmp_path):
    o = notebook_neuron()["o"]
    cell = draw_dot(o)._repr_html_()
    assert cell.startswith("<iframe srcdoc=") and 'sandbox="allow-scripts"' in cell, cell[:200]
    path = tmp_path / "notebook.html"
    path.write_text(notebook_document(cell), encoding="utf-8")

    want = grad_json(PROGRAM)
    cli = {node["name"]: node for node in want["nodes"]}
    assert want["output"] == "o"
    assert set(cli) == set(NAMES.values()), sorted(cli)

    frame = chrome.open(path)
    wait_ready(frame)
    total = frame.evaluate("window.backpropPage.total")
    assert isinstance(total, int) and total > 0, total
    assert step(frame) == 0
    before = shown_nodes(frame)
    assert sorted(r[0] for r in before) == sorted(NAMES), before
    # Before any step, no gradient is shown.
    assert all(r[2] == "grad" and r[3] == "" for r in before), before

    # Keys reach the page the way a person's do: focus the output cell's
    # iframe, then press the right arrow once per step.
    chrome.page.focus("iframe")
    for _ in range(total):
        chrome.page.keyboard.press("ArrowRight")
    expect_step(frame, total)

    shown = shown_nodes(frame)
    assert sorted(r[0] for r in shown) == sorted(NAMES), shown
    for label, data_text, grad_text, full in shown:
        node = cli[NAMES[label]]
        g, d = node["grad"], node["data"]
        assert math.isclose(float(full), g, rel_tol=1e-12, abs_tol=1e-12), (
            f"{label}: the page holds grad {full}, backprop grad --json says {g}"
        )
        assert abs(float(grad_text.removeprefix("grad ")) - g) <= 0.5e-4 + 1e-12, (
            f"{label}: the page shows `{grad_text}`, backprop grad --json says {g}"
        )
        assert abs(float(data_text.removeprefix("data ")) - d) <= 0.5e-4 + 1e-12, (
            f"{label}: the page shows `{data_text}`, backprop grad --json says {d}"
        )
    # The notebook's numbers: o = 0.7071, x1.grad = -1.5.
    assert math.isclose(want["value"], math.sqrt(0.5), rel_tol=1e-12)
    assert math.isclose(want["grads"]["x1"], -1.5, rel_tol=1e-12)

    # The last step's panel lists every input's gradient.
    panel = frame.evaluate("document.getElementById('arith').textContent")
    listed = {}
    for line in panel.splitlines():
        name, sep, value = line.strip().partition(".grad = ")
        if sep:
            try:
                listed[name] = float(value)
            except ValueError:
                pass
    for name, g in want["grads"].items():
        assert name in listed, f"{name} is not in the final panel: {panel}"
        assert abs(listed[name] - g) <= 1e-5 * (1 + abs(g)), (name, listed[name], g)

    # Past the end the right arrow does nothing; the left goes back.
    chrome.page.keyboard.press("ArrowRight")
    expect_step(frame, total)
    chrome.page.keyboard.press("ArrowLeft")
    expect_step(frame, total - 1)
    chrome.page.keyboard.press("Home")
    expect_step(frame, 0)

    chrome.page.wait_for_timeout(100)
    assert chrome.errors == [], f"console errors: {chrome.errors}"
    requests = chrome.close()
    assert requests == [], f"network requests: {requests}"


def test_html_is_the_same_page_on_its_own(chrome, tmp_path):
    # draw_dot(root).html() is the page the iframe holds, opened directly.
    path = tmp_path / "graph.html"
    path.write_text(draw_dot(notebook_neuron()["o"]).html(), encoding="utf-8")
    chrome.page.goto(path.as_uri())
    frame = chrome.page.main_frame
    wait_ready(frame)
    total = frame.evaluate("window.backpropPage.total")
    chrome.page.keyboard.press("End")
    expect_step(frame, total)
    cli = {n["name"]: n["grad"] for n in grad_json(PROGRAM)["nodes"]}
    shown = shown_nodes(frame)
    assert sorted(r[0] for r in shown) == sorted(NAMES), shown
    for label, _, _, full in shown:
        g = cli[NAMES[label]]
        assert math.isclose(float(full), g, rel_tol=1e-12, abs_tol=1e-12), (label, full, g)
    assert chrome.errors == [], f"console errors: {chrome.errors}"
    requests = chrome.close()
    assert requests == [], f"network requests: {requests}"
