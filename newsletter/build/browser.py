"""Headless Chromium for layout checks and screenshots, with no extra packages.

Chromium's DevTools protocol is spoken over ``--remote-debugging-pipe`` (NUL-
separated JSON on file descriptors 3 and 4), which needs neither a WebSocket
library nor a browser download: Debian's ``chromium`` package is enough. The
viewport is set with device-metrics emulation because headless windows cannot
be narrower than 500px.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from newsletter.errors import NewsletterError
from newsletter.files import write_atomic
from newsletter.models import Issue

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
]
TRAMPOLINE = (
    "import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); "
    "os.execv(sys.argv[3], sys.argv[3:])"
)
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")


def find_chromium() -> str | None:
    """The browser to drive: $NEWSLETTER_CHROMIUM, else the first on PATH."""
    explicit = os.environ.get("NEWSLETTER_CHROMIUM")
    if explicit:
        return explicit if shutil.which(explicit) else None
    return next((p for p in map(shutil.which, CANDIDATES) if p), None)


def _above_four(fd: int) -> int:
    high = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return high


class Browser:
    """One headless Chromium with one page, driven over the DevTools pipe."""

    def __init__(self, executable: str | None = None, timeout: float = 30.0) -> None:
        exe = executable or find_chromium()
        if not exe:
            raise NewsletterError(
                "no Chromium found. Install it (apt-get install chromium) "
                "or set NEWSLETTER_CHROMIUM to its path."
            )
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="newsletter-chromium-")
        to_child, self._write = os.pipe()
        self._read, from_child = os.pipe()
        # Move the child's ends above 4 first: "3<&4 4>&3" would cross the wires.
        to_child, from_child = (_above_four(fd) for fd in (to_child, from_child))
        # A tiny Python trampoline puts our pipe ends on fds 3 and 4, where
        # Chromium expects them (a shell cannot name fds above 9).
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                TRAMPOLINE,
                str(to_child),
                str(from_child),
                exe,
                *FLAGS,
                "--remote-debugging-pipe",
                f"--user-data-dir={self.profile}",
                "about:blank",
            ],
            pass_fds=(to_child, from_child),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_child)
        os.close(from_child)
        self._buffer = b""
        self._id = 0
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        self.call("Page.enable", session=True)

    def call(self, method: str, session: bool = False, **params: Any) -> dict[str, Any]:
        self._id += 1
        message: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._next()
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error'].get('message')}")
                return reply.get("result", {})

    def _next(self) -> dict[str, Any]:
        import select

        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._read], [], [], self.timeout)
            chunk = os.read(self._read, 1 << 16) if ready else b""
            if not chunk:
                raise RuntimeError("Chromium stopped answering on the DevTools pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def open(self, url: str, width: int, height: int = 900, mobile: bool = False) -> None:
        self.call(
            "Emulation.setDeviceMetricsOverride",
            session=True,
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=mobile,
        )
        self.call("Page.navigate", session=True, url=url)
        # Wait for the load event of the new document.
        while True:
            event = self._next()
            if event.get("method") == "Page.loadEventFired":
                return

    def evaluate(self, expression: str) -> Any:
        result = self.call(
            "Runtime.evaluate",
            session=True,
            expression=expression,
            returnByValue=True,
            awaitPromise=True,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"script failed: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def screenshot(self, path: Path) -> Path:
        data = self.call(
            "Page.captureScreenshot", session=True, format="png", captureBeyondViewport=True
        )["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, base64.b64decode(data))
        return path

    def close(self) -> None:
        try:
            os.write(self._write, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        finally:
            os.close(self._write)
            os.close(self._read)
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


LAYOUT_JS = """
(() => {
  const titles = %s;
  const visible = t => [...document.querySelectorAll('h3')].some(h => {
    const r = h.getBoundingClientRect(), s = getComputedStyle(h);
    return h.textContent.trim() === t && r.width > 0 && r.height > 0 &&
           r.left >= 0 && r.right <= innerWidth + 0.5 && s.visibility !== 'hidden';
  });
  return {innerWidth, scrollWidth: document.documentElement.scrollWidth,
          hidden: titles.filter(t => !visible(t))};
})()
"""


def check_layout(html_path: Path, issue: Issue, widths: tuple[int, ...] = (375, 800)) -> list[str]:
    """Open the email at each width, screenshot it, and report layout problems.

    Returns one line per width; raises NewsletterError when the layout fails.
    """
    titles = [item.title for section in issue.sections for item in section.items]
    out_dir = html_path.parent / "screenshots"
    lines, failures = [], []
    with Browser() as browser:
        for width in widths:
            browser.open(html_path.resolve().as_uri(), width, mobile=width < 480)
            result = browser.evaluate(LAYOUT_JS % json.dumps(titles))
            shot = browser.screenshot(out_dir / f"email-{width}.png")
            lines.append(
                f"{width}px: scroll width {result['scrollWidth']} of "
                f"{result['innerWidth']}, {len(titles) - len(result['hidden'])}/"
                f"{len(titles)} titles visible, {shot.relative_to(html_path.parent)}"
            )
            if result["scrollWidth"] > result["innerWidth"]:
                failures.append(
                    f"{width}px: the page scrolls sideways ({result['scrollWidth']}px wide)"
                )
            failures += [f"{width}px: title not visible: {t}" for t in result["hidden"]]
    if failures:
        raise NewsletterError(f"{html_path}: layout check failed: " + "; ".join(failures))
    return lines
