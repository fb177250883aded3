"""Settings from ``[tool.newsletter]`` in the root's pyproject.toml.

Every key is declared here with its type, so a typo such as ``form_address``
is reported with the file and key instead of being silently ignored.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsletter.errors import NewsletterError
from newsletter.models import SectionConfig

# key -> (type, default). A default of ... means the key is required.
SCHEMA: dict[str, tuple[type | tuple[type, ...], Any]] = {
    "name": (str, ...),
    "from_name": (str, ...),
    "from_address": (str, ...),
    "reply_to": (str, ""),
    "postal_address": (str, ...),
    "web_url": (str, ...),
    "language": (str, "en"),
    "sections": (list, ...),
    "list_id": (str, ""),
    "sources": (list, []),
    "senders": (dict, {}),
    "send": (dict, {}),
}


@dataclass(frozen=True)
class Settings:
    """The validated house settings, plus where they came from."""

    root: Path
    name: str
    from_name: str
    from_address: str
    postal_address: str
    web_url: str
    sections: tuple[SectionConfig, ...]
    reply_to: str = ""
    language: str = "en"
    list_id: str = ""
    sources: tuple[dict, ...] = ()
    senders: dict = field(default_factory=dict)
    send: dict = field(default_factory=dict)
    path: Path | None = None

    @property
    def section_keys(self) -> tuple[str, ...]:
        return tuple(s.key for s in self.sections)

    @property
    def domain(self) -> str:
        return self.from_address.rpartition("@")[2] or "localhost"


def _type_name(t: type | tuple[type, ...]) -> str:
    names = {
        str: "a string",
        list: "a list",
        dict: "a table",
        int: "an integer",
        bool: "true/false",
    }
    return names.get(t, "a value") if isinstance(t, type) else "a value"


def load_settings(root: Path) -> Settings:
    """Read and validate ``[tool.newsletter]``; raise NewsletterError naming file and key."""
    path = root / "pyproject.toml"
    if not path.is_file():
        raise NewsletterError(
            f"{path}: not found. Run newsletter from the project folder or pass --root DIR."
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise NewsletterError(f"{path}: not UTF-8. Save the file as UTF-8.") from None
    except tomllib.TOMLDecodeError as exc:
        raise NewsletterError(f"{path}: invalid TOML ({exc}). Fix the syntax.") from None
    table = data.get("tool", {}).get("newsletter")
    if not isinstance(table, dict):
        raise NewsletterError(f"{path}: no [tool.newsletter] table. Add the house settings.")
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in SCHEMA:
            known = ", ".join(sorted(SCHEMA))
            raise NewsletterError(
                f"{path}: [tool.newsletter] unknown key '{key}'. Use one of: {known}."
            )
        expected = SCHEMA[key][0]
        if not isinstance(value, expected) or isinstance(value, bool) and expected is not bool:
            raise NewsletterError(
                f"{path}: [tool.newsletter] '{key}' must be {_type_name(expected)}, "
                f"not {type(value).__name__}."
            )
        values[key] = value
    for key, (_, default) in SCHEMA.items():
        if key not in values:
            if default is ...:
                raise NewsletterError(f"{path}: [tool.newsletter] '{key}' is missing. Add it.")
            values[key] = default
    if not values["web_url"].startswith(("http://", "https://")):
        raise NewsletterError(
            f"{path}: [tool.newsletter] 'web_url' must start with http:// or https://."
        )
    if "@" not in values["from_address"]:
        raise NewsletterError(f"{path}: [tool.newsletter] 'from_address' must be an email address.")
    values["sections"] = _sections(path, values["sections"])
    values["sources"] = tuple(values["sources"])
    values["web_url"] = values["web_url"].rstrip("/")
    return Settings(root=root, path=path, **values)


def _sections(path: Path, raw: list) -> tuple[SectionConfig, ...]:
    sections: list[SectionConfig] = []
    for n, entry in enumerate(raw, 1):
        if not isinstance(entry, dict) or set(entry) != {"key", "title"}:
            raise NewsletterError(
                f"{path}: [tool.newsletter] 'sections' entry {n} must be "
                '{ key = "...", title = "..." }.'
            )
        if not all(isinstance(v, str) and v for v in entry.values()):
            raise NewsletterError(
                f"{path}: [tool.newsletter] 'sections' entry {n}: key and title must be "
                "non-empty strings."
            )
        if entry["key"] in {s.key for s in sections}:
            raise NewsletterError(
                f"{path}: [tool.newsletter] 'sections' key '{entry['key']}' appears twice."
            )
        sections.append(SectionConfig(entry["key"], entry["title"]))
    if not sections:
        raise NewsletterError(f"{path}: [tool.newsletter] 'sections' is empty. Add a section.")
    return tuple(sections)
