"""Drive headless Chromium over the DevTools protocol (CDP): start it, talk to its page.

Used by the browser tests (the DSG explorer in JupyterLab, the accessibility check of the pack).
The websocket client is tornado's (installed with Jupyter), so no browser-automation package and
no browser download are needed: Debian's ``chromium`` is enough (``chromium.CHROMIUM``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

from chromium import CHROMIUM, HEADLESS_FLAGS


def wait_for(predicate, timeout: float, what: str, every: float = 0.25):
    """Call ``predicate`` until it returns something truthy (returned); AssertionError after ``timeout`` s."""
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        last = predicate()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


class DevTools:
    """A minimal synchronous DevTools protocol client on one page (tornado's websocket client)."""

    def __init__(self, ws_url: str) -> None:
        from tornado.websocket import websocket_connect

        async def connect():
            return await websocket_connect(ws_url, max_message_size=200 * 2**20)

        self.loop = asyncio.new_event_loop()
        self.ws = self.loop.run_until_complete(connect())
        self.next_id = 0

    def send(self, method: str, **params):
        self.next_id += 1
        me = self.next_id

        async def call():
            await self.ws.write_message(json.dumps({"id": me, "method": method, "params": params}))
            while True:
                msg = await asyncio.wait_for(self.ws.read_message(), 120)
                if msg is None:
                    raise AssertionError("DevTools connection closed")
                data = json.loads(msg)
                if data.get("id") == me:
                    if "error" in data:
                        raise AssertionError(f"{method}: {data['error']}")
                    return data.get("result", {})

        return self.loop.run_until_complete(call())

    def js(self, expression: str):
        """Evaluate ``expression`` in the page (promises awaited); its value, JSON-like."""
        res = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in res:
            raise AssertionError(f"{expression[:80]}: {res['exceptionDetails']}")
        return res.get("result", {}).get("value")

    def key(self, key: str, code: int) -> None:
        for kind in ("keyDown", "keyUp"):
            self.send("Input.dispatchKeyEvent", type=kind, key=key, code=key, windowsVirtualKeyCode=code)

    def open(self, url: str, timeout: float = 60) -> None:
        """Navigate to ``url`` and wait until the document has loaded (``readyState`` complete)."""
        self.send("Page.navigate", url=url)
        wait_for(
            lambda: self.js("location.href") == url and self.js("document.readyState") == "complete",
            timeout,
            f"{url} to load",
            every=0.1,
        )

    def close(self) -> None:
        self.ws.close()
        self.loop.close()


@contextlib.contextmanager
def headless_chromium(
    profile: Path, width: int = 1600, height: int = 1000, extra: Sequence[str] = ()
) -> Iterator[DevTools]:
    """Headless Chromium with remote debugging on a fresh ``profile`` folder; yields a
    :class:`DevTools` on its page (a ``width`` x ``height`` desktop viewport). Chromium is
    stopped on exit."""
    assert CHROMIUM is not None, "chromium is not installed"
    proc = subprocess.Popen(
        [
            CHROMIUM,
            *HEADLESS_FLAGS,
            "--remote-debugging-port=0",
            "--remote-allow-origins=*",
            f"--window-size={width},{height}",
            f"--user-data-dir={profile}",
            *extra,
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        wait_for(lambda: port_file.is_file() and port_file.read_text().strip(), 30, "Chromium's DevTools port")
        port = int(port_file.read_text().split()[0])

        def page():
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as r:
                pages = [t for t in json.load(r) if t.get("type") == "page"]
            return pages[0]["webSocketDebuggerUrl"] if pages else None

        dt = DevTools(wait_for(page, 30, "a Chromium page"))
        try:
            dt.send("Page.enable")
            dt.send("Runtime.enable")
            dt.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
            yield dt
        finally:
            dt.close()
    finally:
        stop(proc)


def stop(proc: subprocess.Popen, wait: float = 20) -> None:
    """End a browser or server the test started: terminate, then kill if it does not exit."""
    proc.terminate()
    try:
        proc.wait(wait)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(wait)
