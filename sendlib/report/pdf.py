"""The board pack as one PDF (``pack.pdf``), printed by headless Chromium.

Committee papers circulate as PDFs. :func:`write_pack_pdf` joins the pack's pages (``index.html``
first, then the sections in order) into one print document in a temporary folder, with the pack's
stylesheet inlined (its ``@media print`` rules: A4, no navigation, no page-wide links), and prints
it with Chromium's ``--print-to-pdf`` (one Chromium call). Links between pages become links
inside the PDF; links to files of the pack (tables, workbook, manifest) become plain text, so the
PDF holds no link to a folder on the machine that made it, and Chromium's header and footer
(which print the file's address) are switched off.

Chromium (or Google Chrome, or Microsoft Edge: the same engine) is looked up by
:func:`find_chromium`: ``report.chromium`` in the config, else the usual names on ``PATH``, else
the usual install locations on Windows and macOS. The PDF is optional: when no browser is found
or printing fails, :func:`try_write_pack_pdf` logs one line saying why and the report carries on.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path

LOG = logging.getLogger("sendlib.report")

#: The PDF's file name in the pack.
PDF_NAME = "pack.pdf"

#: Executable names tried on ``PATH``, in order.
CHROMIUM_NAMES = (
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "chrome",
    "msedge",
    "microsoft-edge",
)

#: Flags for a quiet, offline headless run (the browser tests use the same list).
HEADLESS_FLAGS: list[str] = [
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
]

#: Printing flags: no header or footer (they show the file's address; the first name is current
#: Chromium's, the second older builds', an unknown flag is ignored), bookmarks from the headings.
PRINT_FLAGS: list[str] = ["--no-pdf-header-footer", "--print-to-pdf-no-header", "--generate-pdf-document-outline"]


class PdfError(RuntimeError):
    """Printing the pack to PDF failed (the message says why)."""


@dataclass(frozen=True)
class PdfOutcome:
    """What :func:`try_write_pack_pdf` did: the PDF written (``path``) or why not (``reason``)."""

    path: Path | None
    reason: str | None
    seconds: float


def _well_known_locations() -> list[Path]:
    """Where Chrome, Chromium and Edge install themselves on Windows and macOS."""
    places: list[Path] = []
    for var in ("PROGRAMFILES", "PROGRAMFILES(X86)", "LOCALAPPDATA"):
        base = os.environ.get(var)
        if base:
            places += [
                Path(base) / "Google" / "Chrome" / "Application" / "chrome.exe",
                Path(base) / "Chromium" / "Application" / "chrome.exe",
                Path(base) / "Microsoft" / "Edge" / "Application" / "msedge.exe",
            ]
    for app in ("Google Chrome", "Chromium", "Microsoft Edge"):
        places.append(Path("/Applications") / f"{app}.app" / "Contents" / "MacOS" / app)
    return places


def find_chromium(configured: str | os.PathLike[str] | None = None) -> str | None:
    """The Chromium-family browser to print with, or None when there is none.

    ``configured`` (``report.chromium`` in the config) is a path or a command name; when given,
    it is the only one tried. Otherwise :data:`CHROMIUM_NAMES` on ``PATH``, then the usual
    install locations of Chrome, Chromium and Edge on Windows and macOS.
    """
    if configured:
        found = shutil.which(str(configured))
        return str(Path(found)) if found else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return next((str(p) for p in _well_known_locations() if p.is_file()), None)


def _sandbox_flags() -> list[str]:
    """Chromium refuses to start as root with its sandbox on (a CI container): no sandbox then.
    The printed page is the pack's own HTML with its scripts removed and no network use."""
    geteuid = getattr(os, "geteuid", None)
    return ["--no-sandbox"] if geteuid is not None and geteuid() == 0 else []


# ----- the print document ---------------------------------------------------------------------

_PAGE_ID = "page-{}"


def _internal_target(href: str, stem: str, pages: Collection[str]) -> str | None:
    """Where a link on page ``stem`` points inside the print document, or None when it points
    outside it (a file of the pack, or nothing the PDF can reach)."""
    if href.startswith("#"):
        return f"#{stem}--{href[1:]}" if len(href) > 1 else f"#{_PAGE_ID.format(stem)}"
    file, _, fragment = href.partition("#")
    other = Path(file).stem
    if "/" in file or not file.endswith(".html") or other not in pages:
        return None
    return f"#{other}--{fragment}" if fragment else f"#{_PAGE_ID.format(other)}"


def print_document(pack: str | Path, pages: Sequence[str]) -> str:
    """One HTML document holding ``pages`` (file names in the pack, in order) for printing.

    The pack's stylesheet is inlined (the document lives in a temporary folder), each page
    starts on a new sheet, scripts are dropped, in-page anchors are made unique per page, links
    between pages become in-document links, ``http(s)``/``mailto`` links are kept and other
    links (files of the pack) become plain text.
    """
    from bs4 import BeautifulSoup

    from sendlib.report.export import STYLESHEET

    folder = Path(pack)
    stems = {Path(p).stem for p in pages}
    css = (folder / STYLESHEET).read_text(encoding="utf-8") if (folder / STYLESHEET).is_file() else ""
    title = ""
    bodies = []
    for name in pages:
        stem = Path(name).stem
        soup = BeautifulSoup((folder / name).read_text(encoding="utf-8"), "html.parser")
        if not title and soup.title and soup.title.string:
            title = soup.title.string.strip()
        body = soup.body or soup
        for tag in body.find_all(["script", "noscript"]):
            tag.decompose()
        for tag in body.select(".skip-link"):
            tag.decompose()
        targets = set()
        for a in body.find_all(href=True):
            href = str(a["href"]).strip()
            if re.match(r"^(https?:|mailto:)", href, flags=re.I):
                continue
            new = _internal_target(href, stem, stems)
            if new is None:
                del a["href"]
            else:
                a["href"] = new
                if href.startswith("#"):
                    targets.add(href[1:])
        for tag in body.find_all(id=True):
            if tag["id"] in targets:
                tag["id"] = f"{stem}--{tag['id']}"
        inner = "".join(str(c) for c in body.contents)
        body_class = " ".join(body.get("class", [])) if body is not soup else ""
        bodies.append(f'<div class="print-page {body_class}" id="{_PAGE_ID.format(stem)}">{inner}</div>')
    return (
        '<!DOCTYPE html>\n<html lang="en-GB">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title or 'Board pack')}</title>\n<style>\n{css}\n"
        '</style>\n</head>\n<body class="print-pack">\n' + "\n".join(bodies) + "\n</body>\n</html>\n"
    )


# ----- printing -------------------------------------------------------------------------------


def write_pack_pdf(
    pack: str | Path,
    pages: Sequence[str],
    target: str | Path,
    *,
    chromium: str,
    timeout: float = 120.0,
) -> Path:
    """Print ``pages`` of ``pack`` (index first, then the sections) into ``target`` with Chromium.

    Builds :func:`print_document` in a temporary folder (with a throw-away browser profile,
    removed afterwards) and runs ``chromium --headless --print-to-pdf``. Raises
    :class:`PdfError` when Chromium fails, times out (``timeout`` seconds) or writes no PDF.
    """
    target = Path(target)
    # a browser process still closing may hold its profile open (Windows): cleanup errors ignored
    with tempfile.TemporaryDirectory(prefix="sendlib-pdf-", ignore_cleanup_errors=True) as tmp:
        work = Path(tmp)
        source = work / "pack.html"
        source.write_text(print_document(pack, pages), encoding="utf-8")
        out = work / PDF_NAME
        cmd = [
            chromium,
            *HEADLESS_FLAGS,
            *_sandbox_flags(),
            *PRINT_FLAGS,
            f"--user-data-dir={work / 'profile'}",
            f"--print-to-pdf={out}",
            source.as_uri(),
        ]
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise PdfError(f"{Path(chromium).name} did not finish printing within {timeout:g} s") from exc
        except OSError as exc:
            raise PdfError(f"{Path(chromium).name} could not be started: {exc}") from exc
        if not out.is_file() or out.stat().st_size == 0 or out.read_bytes()[:4] != b"%PDF":
            detail = " ".join((res.stderr or "").split()[-30:])
            raise PdfError(f"{Path(chromium).name} exited with code {res.returncode} and wrote no PDF: {detail}")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out, target)
    return target


def try_write_pack_pdf(
    pack: str | Path,
    pages: Sequence[str],
    *,
    enabled: bool = True,
    configured: str | None = None,
    timeout: float = 120.0,
) -> PdfOutcome:
    """:func:`write_pack_pdf` into ``<pack>/pack.pdf`` when it can be; never raises for a
    missing browser or a failed print: logs one line saying that no PDF was written and why."""
    t = time.perf_counter()
    reason: str | None = None
    path: Path | None = None
    if not enabled:
        reason = "PDF switched off (--no-pdf or report.pdf: false)"
    elif not pages:
        reason = "no page to print"
    else:
        chromium = find_chromium(configured)
        if chromium is None:
            reason = (
                f"report.chromium ({configured}) not found"
                if configured
                else "no Chromium, Chrome or Edge found (set report.chromium in the config)"
            )
        else:
            try:
                path = write_pack_pdf(pack, pages, Path(pack) / PDF_NAME, chromium=chromium, timeout=timeout)
            except PdfError as exc:
                reason = str(exc)
    seconds = time.perf_counter() - t
    if path is not None:
        LOG.info("wrote %s (%s and %d more page(s)) in %.1fs", PDF_NAME, pages[0], len(pages) - 1, seconds)
    else:
        (LOG.info if not enabled else LOG.warning)("no %s written: %s", PDF_NAME, reason)
    return PdfOutcome(path, reason, seconds)
