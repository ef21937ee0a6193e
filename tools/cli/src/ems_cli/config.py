"""Where the API is and which key to send: options, the environment, then `.ems/local.env`.

`--api-url` / `--api-key` win, then EMS_API_URL / EMS_API_KEY (typer reads both). Whatever is
still missing comes from the `.ems/local.env` that `make up` writes, found by walking up from the
current directory, so `ems` works inside the repository right after `make up`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

URL_ENV: Final = "EMS_API_URL"
KEY_ENV: Final = "EMS_API_KEY"
LOCAL_ENV_FILE: Final = Path(".ems") / "local.env"

HOW_TO_CONFIGURE: Final = (
    f"pass --api-url and --api-key, or set {URL_ENV} and {KEY_ENV};"
    " inside the EMS repository `make up` starts the local API and writes both to"
    f" {LOCAL_ENV_FILE}"
)


class ConfigError(Exception):
    """The API's URL or key is missing; the message says how to set them."""


@dataclass(frozen=True)
class ApiSettings:
    """The API to talk to, and where its URL came from (for error messages)."""

    url: str
    key: str
    url_source: str


def find_local_env(start: Path) -> Path | None:
    """The nearest `.ems/local.env` in `start` or one of its parents."""
    for folder in (start, *start.parents):
        candidate = folder / LOCAL_ENV_FILE
        if candidate.is_file():
            return candidate
    return None


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines; blank lines, `#` comments and an `export ` prefix are allowed."""
    values: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def resolve_api_settings(url: str | None, key: str | None, cwd: Path) -> ApiSettings:
    """The URL and key from the options or environment, filled in from `.ems/local.env`.

    Raises ConfigError naming what is missing and how to set it.
    """
    url_source = "--api-url or " + URL_ENV
    env_file = None
    if not url or not key:
        env_file = find_local_env(cwd)
        if env_file is not None:
            local = read_env_file(env_file)
            if not url and local.get(URL_ENV):
                url, url_source = local[URL_ENV], str(env_file)
            key = key or local.get(KEY_ENV) or None
    missing = [name for name, value in (("URL", url), ("key", key)) if not value]
    if missing or url is None or key is None:
        found = (
            f" ({env_file} has none: run `make up` again to rewrite it)"
            if env_file is not None
            else ""
        )
        raise ConfigError(f"no API {' and no API '.join(missing)}{found}: {HOW_TO_CONFIGURE}")
    if not url.startswith(("http://", "https://")):
        raise ConfigError(
            f"the API URL {url!r} (from {url_source}) must start with http:// or https://"
        )
    return ApiSettings(url=url, key=key, url_source=url_source)
