"""The html bulletin in a real headless browser (Chromium from the system packages),
driven over the Chrome DevTools Protocol on a pipe (``--remote-debugging-pipe``: fd 3 in,
fd 4 out, JSON messages ended by NUL; standard library only, no port, no websocket).

Checked: the page loads with no request but its own file and no console message or error
(a Content-Security-Policy violation would be one), the charts render (the SVG elements are
in the DOM at their width and height, and a screenshot of each shows its colours), no
script runs (a project named ``<script>alert(1)</script>`` is text), and it prints to A4
PDF pages. One browser for the module; under ~20 s.

Where Chromium is missing the test is skipped with the reason, except in CI (``CI`` set),
where it fails: ``.ci/run`` installs it.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import re
import select
import shutil
import struct
import subprocess
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lifecycle_rules.io.cli import main

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "bulletin"
CHROMIUM = next((p for p in (os.environ.get("LR_CHROMIUM"), shutil.which("chromium"),
                             shutil.which("chromium-browser"), "/usr/bin/chromium") if p and os.path.exists(p)), None)


class Browser:
    """A headless Chromium and a minimal CDP client over its pipe."""

    def __init__(self, profile: Path) -> None:
        assert CHROMIUM is not None
        to_browser_r, to_browser_w = os.pipe()
        from_browser_r, from_browser_w = os.pipe()
        # Out of the way of 3 and 4, which the child's ends must become.
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_browser_r, from_browser_w)]
        for fd in (to_browser_r, from_browser_w):
            os.close(fd)

        def child_fds() -> None:
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        self.log = (profile / "chromium.log").open("wb")
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless=new", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync",
             "--disable-background-networking", "--disable-component-update", "--disable-default-apps",
             "--hide-scrollbars", "--mute-audio", f"--user-data-dir={profile / 'profile'}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log, pass_fds=(3, 4),
            preexec_fn=child_fds)  # fds 3 and 4 are the protocol's
        for fd in high:
            os.close(fd)
        self._out, self._in = to_browser_w, from_browser_r
        self._buffer = b""
        self._next = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None,
             timeout: float = 15.0) -> dict[str, Any]:
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        for reply in self._messages(timeout):
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self.events.append(reply)
        raise TimeoutError(method)  # pragma: no cover - _messages raises first

    def wait_for(self, method: str, timeout: float = 15.0) -> dict[str, Any]:
        for i, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events.pop(i)
        for event in self._messages(timeout):
            if event.get("method") == method:
                return event
            self.events.append(event)
        raise TimeoutError(method)  # pragma: no cover

    def _messages(self, timeout: float) -> Iterator[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                yield json.loads(raw)
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                raise TimeoutError(f"no answer from Chromium (exit {self.proc.poll()})")
            ready, _, _ = select.select([self._in], [], [], left)
            if ready:
                chunk = os.read(self._in, 1 << 20)
                if not chunk:
                    raise TimeoutError("Chromium closed its pipe")
                self._buffer += chunk

    def close(self) -> None:
        with contextlib.suppress(TimeoutError, RuntimeError, OSError):
            self.send("Browser.close", timeout=5)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            self.proc.kill()
            self.proc.wait()
        os.close(self._out)
        os.close(self._in)
        self.log.close()


def png_pixels(data: bytes, max_rows: int | None = None) -> tuple[int, int, list[bytes]]:
    """Width, height and the unfiltered RGB(A) rows (the first ``max_rows``) of an 8-bit
    PNG (standard library)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and color in (2, 6)
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(min(height, max_rows or height)):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b, c = prev[i], prev[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, rows


def colours(data: bytes, max_rows: int | None = None) -> dict[str, int]:
    """How many pixels are near each level's colour, or not white."""
    width, _, rows = png_pixels(data, max_rows)
    channels = len(rows[0]) // width
    near = {"red": (0xC0, 0x00, 0x00), "orange": (0xED, 0x7D, 0x31)}
    counts = dict.fromkeys([*near, "ink"], 0)
    for row in rows:
        for x in range(0, len(row), channels):
            r, g, b = row[x], row[x + 1], row[x + 2]
            if r < 235 or g < 235 or b < 235:
                counts["ink"] += 1
            for name, (cr, cg, cb) in near.items():
                if abs(r - cr) < 40 and abs(g - cg) < 40 and abs(b - cb) < 40:
                    counts[name] += 1
    return counts


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed: .ci/run installs it (apt-get install -y chromium)")
        pytest.skip("Chromium is not installed (apt-get install -y chromium); .ci/run installs it in CI")
    started = time.monotonic()
    tmp = tmp_path_factory.mktemp("browser")
    out = tmp / "通报.html"
    code = main(["report", "--pack", "jiande", "--as-of", "2024-11-30", str(DATA / "jiande.jsonl"), "-o", str(out),
                 "--quiet"])
    assert code == 0
    browser = Browser(tmp)
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(f"{domain}.enable", session=session)
        browser.send("Emulation.setDeviceMetricsOverride",
                     {"width": 1280, "height": 2000, "deviceScaleFactor": 1, "mobile": False}, session=session)
        url = out.as_uri()
        browser.send("Page.navigate", {"url": url}, session=session)
        browser.wait_for("Page.loadEventFired")
        found = browser.send("Runtime.evaluate", {"returnByValue": True, "expression": """(() => {
            const svgs = [...document.querySelectorAll('svg')].map(s => ({
                width: s.getAttribute('width'), height: s.getAttribute('height'),
                box: [s.getBoundingClientRect().x, s.getBoundingClientRect().y + window.scrollY,
                      s.getBoundingClientRect().width, s.getBoundingClientRect().height],
                shapes: s.querySelectorAll('rect, polyline, circle').length}));
            return {svgs, scripts: document.scripts.length, title: document.title,
                    text: document.body.innerText, alerts: typeof window.__alerted,
                    fonts: getComputedStyle(document.body).fontFamily,
                    heading: getComputedStyle(document.querySelector('h2')).fontFamily};
        })()"""}, session=session)["result"]["value"]
        shots = [base64.b64decode(browser.send("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": s["box"][0], "y": s["box"][1], "width": s["box"][2], "height": s["box"][3], "scale": 1}},
            session=session)["data"]) for s in found["svgs"]]
        full = base64.b64decode(browser.send("Page.captureScreenshot", {"format": "png"}, session=session)["data"])
        pdf = base64.b64decode(browser.send("Page.printToPDF", {"preferCSSPageSize": True}, session=session,
                                            timeout=30)["data"])
        time.sleep(0.2)  # anything the page would still log or fetch
        browser.send("Runtime.evaluate", {"expression": "1"}, session=session)
        events = list(browser.events)
    finally:
        browser.close()
    (tmp / "page.png").write_bytes(full)
    yield {"url": url, "found": found, "shots": shots, "full": full, "pdf": pdf, "events": events,
           "html": out.read_text(encoding="utf-8"), "seconds": time.monotonic() - started, "dir": tmp}


def test_no_request_but_the_page_and_no_console_message(page: dict[str, Any]) -> None:
    requests = [e["params"]["request"]["url"] for e in page["events"] if e.get("method") == "Network.requestWillBeSent"]
    assert requests == [page["url"]]
    failed = [e for e in page["events"] if e.get("method") == "Network.loadingFailed"]
    assert failed == []
    said = [e["params"] for e in page["events"] if e.get("method") in (
        "Runtime.consoleAPICalled", "Runtime.exceptionThrown", "Log.entryAdded")]
    assert said == []


def test_the_charts_render(page: dict[str, Any]) -> None:
    svgs = page["found"]["svgs"]
    # 图1 levels by stage (stacked bars) and 图2 the 12-month trend (lines), at their sizes.
    assert [(s["width"], s["height"]) for s in svgs] == [("720", "300"), ("720", "320")]
    assert [tuple(round(v) for v in s["box"][2:]) for s in svgs] == [(720, 300), (720, 320)]
    assert all(s["shapes"] >= 3 for s in svgs)
    bars, trend = (colours(shot) for shot in page["shots"])
    # Red bars (5 red warnings in 落地未开工) and an orange one (签约未落地); red and
    # orange lines and dots in the trend: the charts are drawn, not blank.
    assert bars["red"] > 2000 and bars["orange"] > 300, bars
    assert trend["red"] > 300 and trend["orange"] > 100, trend
    width, height, _ = png_pixels(page["full"], max_rows=1)
    assert (width, height) == (1280, 2000)
    # The title and the summary: not a blank page.
    assert colours(page["full"], max_rows=300)["ink"] > 10_000


def test_text_is_text_and_the_page_prints(page: dict[str, Any]) -> None:
    found = page["found"]
    assert found["scripts"] == 0 and found["alerts"] == "undefined"
    assert "<script>alert(1)</script>" in found["text"]  # the project's name, shown as written
    assert found["title"] == "建德投资项目全生命周期预警通报（2024年11月）"
    assert "SimSun" in found["fonts"] and "Noto Serif CJK SC" in found["fonts"] and "SimHei" in found["heading"]
    pdf = page["pdf"]
    assert pdf.startswith(b"%PDF")
    pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    assert pages >= 6  # each big part on a page of its own
    # A4 (595 x 842 points): portrait for the overview, landscape for the wide lists.
    boxes = {(round(float(w)), round(float(h))) for w, h in re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)}
    assert boxes == {(595, 842), (842, 595)}


def test_it_is_quick(page: dict[str, Any]) -> None:
    print(f"browser test: {page['seconds']:.1f} s (report, start, load, screenshots, PDF)")
    assert page["seconds"] < 20
