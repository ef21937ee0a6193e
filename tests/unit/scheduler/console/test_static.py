"""The console's scripts and style sheets: each pinned by a Subresource Integrity hash that
matches the file served, so a browser refuses a changed one."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import ems_scheduler.console

CONSOLE = Path(ems_scheduler.console.__file__).parent
PINNED = re.compile(
    r"filename='(?P<file>[^']+)'\) }}\"\s+integrity=\"sha384-(?P<hash>[A-Za-z0-9+/=]+)\"",
)


def test_every_pinned_file_matches_its_integrity_hash() -> None:
    pinned = {
        match["file"]: match["hash"]
        for template in (CONSOLE / "templates" / "console").glob("*.html")
        for match in PINNED.finditer(template.read_text())
    }

    assert set(pinned) == {
        "htmx-2.0.11.min.js",
        "uPlot-1.6.32.iife.min.js",
        "uPlot-1.6.32.min.css",
    }
    for name, expected in pinned.items():
        digest = hashlib.sha384((CONSOLE / "static" / name).read_bytes()).digest()
        assert base64.b64encode(digest).decode() == expected, name


def test_every_vendored_file_is_listed_with_its_version_and_origin() -> None:
    readme = (CONSOLE / "static" / "README.md").read_text()

    for name in ("htmx-2.0.11.min.js", "uPlot-1.6.32.iife.min.js", "uPlot-1.6.32.min.css"):
        assert f"`{name}`" in readme
