"""The house settings: ``[tool.newsletter]`` in the root's pyproject.toml, and its subtables.

Every key is declared once, in the schemas below, with its type and default,
so a typo such as ``form_address`` is reported with the file, the line and the
key instead of being silently ignored, by whichever command reads the settings
first. The subtables come out as typed values: ``send`` (how a send runs),
``send.dkim``, ``sources`` (contact lists to sync) and ``senders`` (sender
configurations, whose options the sender plugin itself declares).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from newsletter import tokens
from newsletter.errors import NewsletterError
from newsletter.files import MAX_TEXT_BYTES, NotRegular, NotUTF8, TooLarge, decode, read_regular
from newsletter.models import GREETING, LIMITS, SectionConfig
from newsletter.schema import (
    Field,
    Invalid,
    Kind,
    Nested,
    Schema,
    UnreadableToml,
    anything,
    boolean,
    choice,
    greeting,
    header_text,
    host_problem,
    line,
    lines_under,
    ranged,
    read_toml,
    shown,
    toml_lines,
)

TABLE = "tool.newsletter"
# Settings tables that change how an issue is sent or synced, not what is built:
# editing them must not make a finished build look stale to `send`.
# approval decides who may send, not what is built: changing it voids no approval.
NOT_BUILD_INPUTS = ("senders", "send", "sources", "approval")
READERSHIP = ("off", "aggregate")
APPROVALS = ("none", "required")


def _toml(key: str) -> str:
    return f'{key} = "..."'


def _sections() -> Kind:
    entry = Schema(
        fields=(
            Field("key", line(), required=True),
            Field("title", line(), required=True),
            Field("description", line(), default=""),
        ),
        assign=_toml,
    )

    def parse(value: Any) -> tuple[SectionConfig, ...]:
        if not isinstance(value, list) or not value:
            raise Invalid("must be a non-empty list of sections")
        found: list[SectionConfig] = []
        for n, item in enumerate(value, 1):
            checked = entry.check(item) if isinstance(item, dict) else None
            if checked is None or checked.errors:
                raise Invalid(f'entry {n} is not {{ key = "...", title = "..." }}')
            if checked.values["key"] in {s.key for s in found}:
                raise Invalid(f"key {shown(checked.values['key'])} appears twice", "Keep one.")
            v = checked.values
            found.append(SectionConfig(v["key"], v["title"], v["description"]))
        return tuple(found)

    fix = 'Write sections = [ { key = "news", title = "News" }, ... ].'
    return Kind(parse, "a list of sections", fix)


def _address() -> Kind:
    plain = line()

    def parse(value: Any) -> str:
        address = plain.parse(value)
        if "@" not in address:
            raise Invalid("is not an email address")
        return address

    return Kind(parse, "an email address", "Write an address such as news@example.org.")


def _base_url() -> Kind:
    plain = line()

    def parse(value: Any) -> str:
        url = plain.parse(value)
        if not url.startswith(("http://", "https://")):
            raise Invalid("does not start with http:// or https://")
        return url.rstrip("/")

    return Kind(parse, "a web address", "Write the archive's address, https://....")


# Every setting that reaches a mail header passes the one header check when the
# settings are read, so a mistake names pyproject.toml and the key before any
# command runs: name (List-Id), from_name and from_address (From), reply_to,
# web_url (List-Unsubscribe), list_id, and send's return_path and
# unsubscribe_address (the envelope and List-Unsubscribe).
HOUSE = Schema(
    fields=(
        Field("name", header_text(line()), required=True),
        Field("from_name", header_text(line()), required=True),
        Field("from_address", header_text(_address()), required=True),
        Field("reply_to", header_text(line()), default=""),
        # Where contributors may email their news (``newsletter intake`` reads that
        # mailbox); a call for contributions names it. "" for none.
        Field("contributions_address", _address(), default=""),
        Field("postal_address", line(), required=True),
        Field("web_url", header_text(_base_url()), required=True),
        Field("language", line(), default="en"),
        Field("sections", _sections(), required=True),
        Field("list_id", header_text(line()), default=""),
        Field("greeting", greeting(), default=GREETING, empty_is_missing=False),
        Field("approval", choice(APPROVALS), default="none"),
        Field("sources", anything(), default=[]),
        Field("senders", anything(), default={}),
        Field("send", anything(), default={}),
        # "aggregate": links in the email count clicks per issue and link (README).
        Field("readership", choice(READERSHIP), default="off"),
        # true: an item with an organisation says "Contributed by ..." (build.render.byline).
        Field("attribution", boolean(), default=False),
    ),
    assign=_toml,
)


@dataclass(frozen=True)
class Dkim:
    """``[tool.newsletter.send.dkim]``: who signs, and where the key is (never the key)."""

    selector: str
    domain: str = ""  # default: the domain of from_address
    key_env: str = ""  # an environment variable holding the PEM key
    key_file: str = ""  # a path outside the project
    # An Ed25519 signature beside the RSA one (RFC 8463), same domain, its own
    # selector and key: receivers that know Ed25519 check it, the rest ignore it.
    ed25519_selector: str = ""
    ed25519_key_env: str = ""
    ed25519_key_file: str = ""


@dataclass(frozen=True)
class SendSettings:
    """``[tool.newsletter.send]``; every field can be set there."""

    sender: str = "outbox"
    concurrency: int = 4
    rate: float = 0.0  # messages a second; 0 = no limit
    max_per_hour: int = 0  # 0 = no cap
    max_attempts: int = 5  # per message, for 4xx replies and lost connections
    retry_delay: float = 2.0  # seconds before the first retry; doubles each time
    retry_delay_max: float = 300.0
    max_consecutive_failures: int = 20  # then the run pauses
    durable: bool = True  # fsync every ledger commit (survives power loss, not only crashes)
    return_path: str = ""  # envelope sender (may hold {token}); default from_address
    unsubscribe_address: str = ""  # the mailto: in List-Unsubscribe; default from_address
    # How the DKIM and return-path domains must match from_address's (DMARC,
    # RFC 7489 3.1): "relaxed" (same organisational domain), "strict" (the same
    # domain) or "off" (not checked: a provider that aligns the mail itself).
    dmarc_alignment: str = "relaxed"
    dkim: Dkim | None = None


_DNS_NAME = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*")


def _dns_name() -> Kind:
    """A DNS name, returned in ASCII (IDNA): it goes into a header verbatim."""
    plain = line()

    def parse(value: Any) -> str:
        name = plain.parse(value)
        if problem := host_problem(name):  # the one host-name rule; IDNA then cannot fail
            raise Invalid(f"is not a DNS name: it {problem}")
        name = name.encode("idna").decode("ascii")
        if not _DNS_NAME.fullmatch(name):
            raise Invalid("is not a DNS name")
        return name

    return Kind(parse, "a DNS name", "Write a name such as nl2026 or example.org.")


def _dkim() -> Kind:
    name = line()
    schema = Schema(
        fields=(
            Field("selector", _dns_name(), required=True),
            Field("domain", _dns_name(), default=""),
            Field("key_env", name, default=""),
            Field("key_file", name, default=""),
            Field("ed25519_selector", _dns_name(), default=""),
            Field("ed25519_key_env", name, default=""),
            Field("ed25519_key_file", name, default=""),
        ),
        assign=_toml,
    )

    def parse(value: Any) -> Dkim:
        if not isinstance(value, dict):
            raise Invalid("")
        checked = schema.check(value)
        if checked.errors:
            raise Nested(checked.errors)  # each with its own fix, under the dkim table
        v = checked.values
        if bool(v["key_env"]) == bool(v["key_file"]):
            raise Invalid(
                "needs exactly one of 'key_env' (an environment variable holding the PEM key) "
                "or 'key_file' (a path outside the project)",
                "Set one of them.",
            )
        ed25519_keys = bool(v["ed25519_key_env"]) + bool(v["ed25519_key_file"])
        if ed25519_keys != (1 if v["ed25519_selector"] else 0):
            raise Invalid(
                "needs, for an Ed25519 signature, 'ed25519_selector' and exactly one of "
                "'ed25519_key_env' or 'ed25519_key_file'",
                "Set the selector and one key, or none of the three.",
            )
        return Dkim(**v)

    return Kind(parse, "a table", "Write [tool.newsletter.send.dkim] with selector and key_env.")


def _return_path() -> Kind:
    """The envelope sender: an address, or a signed one (``bounces+{token}@example.org``).

    Kept a plain string (its domain is the return path's domain either way);
    a value with braces is a template, checked here so a mistake names the line.
    """
    plain = line()

    def parse(value: Any) -> str:
        template = plain.parse(value)
        if "{" in template or "}" in template:
            if problem := tokens.template_problem(template):
                raise Invalid(problem, 'Write it as "bounces+{token}@example.org".')
        return template

    return Kind(parse, "an email address", "Write an address such as bounces@example.org.")


SEND = Schema(
    fields=(
        Field("sender", line(), default="outbox"),
        # The numbers: one range each, shared with the send options (models.LIMITS).
        Field("concurrency", ranged(LIMITS["concurrency"]), default=4),
        Field("rate", ranged(LIMITS["rate"]), default=0.0),
        Field("max_per_hour", ranged(LIMITS["max_per_hour"]), default=0),
        Field("max_attempts", ranged(LIMITS["max_attempts"]), default=5),
        Field("retry_delay", ranged(LIMITS["retry_delay"]), default=2.0),
        Field("retry_delay_max", ranged(LIMITS["retry_delay_max"]), default=300.0),
        Field("max_consecutive_failures", ranged(LIMITS["max_consecutive_failures"]), default=20),
        Field("durable", boolean(), default=True),
        Field("return_path", header_text(_return_path()), default=""),
        Field("unsubscribe_address", header_text(line()), default=""),
        Field("dmarc_alignment", choice(("relaxed", "strict", "off")), default="relaxed"),
        Field("dkim", _dkim()),
    ),
    assign=_toml,
)


@dataclass(frozen=True)
class Source:
    """One contact list in ``sources``, authoritative for one organisation."""

    name: str
    organisation: str
    location: str  # a path (relative to the root) or an http(s) URL
    is_url: bool
    format: str | None = None  # "csv" or "json"; None: from the name or content
    timeout: float = 30.0
    # The url's host may resolve to a loopback or private address: an agency
    # list on the office's own network, set on purpose (``allow_private = true``).
    allow_private: bool = False


SOURCE_EXAMPLE = '{ organisation = "UNICEF", url = "https://..." }'
SOURCE = Schema(
    fields=(
        Field("name", line()),
        Field("organisation", line(), required=True, fix="Name the organisation it owns."),
        Field("path", line()),
        Field("url", line()),
        Field("format", choice(("csv", "json"))),
        Field("timeout", ranged(LIMITS["timeout"]), default=30.0),
        Field("allow_private", boolean(), default=False),
    ),
    assign=_toml,
)


@dataclass(frozen=True)
class SenderTable:
    """``[tool.newsletter.senders.NAME]``: a sender configuration; its plugin checks options."""

    name: str
    plugin: str
    options: Mapping[str, object]


# Languages written right to left (ISO 639 codes), among them Arabic, one of the
# UN's six official languages, and the scripts of its offices' host countries.
RTL_LANGUAGES = frozenset(
    {"ar", "arc", "ckb", "dv", "fa", "he", "iw", "ks", "ps", "sd", "syr", "ug", "ur", "yi"}
)


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
    contributions_address: str = ""
    language: str = "en"
    list_id: str = ""
    greeting: str = GREETING  # over the editor's note; "" for none (issue.toml may override)
    approval: str = "none"  # "required": send wants a reviewer's approval of the build
    sources: tuple[Source, ...] = ()
    senders: Mapping[str, SenderTable] = field(default_factory=dict)
    send: SendSettings = field(default_factory=SendSettings)
    readership: str = "off"  # or "aggregate": click counts per issue and link
    attribution: bool = False  # credit an item's organisation: "Contributed by UNICEF"
    path: Path | None = None
    lines: Mapping[str, int] = field(default_factory=dict, compare=False)
    build_inputs: str = ""  # the settings a build reads, as canonical JSON (see input_digest)

    @property
    def section_keys(self) -> tuple[str, ...]:
        return tuple(s.key for s in self.sections)

    @property
    def domain(self) -> str:
        return self.from_address.rpartition("@")[2] or "localhost"

    @property
    def direction(self) -> str:
        """``rtl`` or ``ltr`` from the language, for ``dir=``: "auto" lets a client guess
        from the first letters, which may be a name or a number."""
        primary = self.language.replace("_", "-").split("-")[0].lower()
        return "rtl" if primary in RTL_LANGUAGES else "ltr"

    def where(self, key: str = "", table: str = "") -> str:
        """``pyproject.toml:LINE: [tool.newsletter.TABLE] 'key'``, for messages."""
        head = _head(self.path or self.root / "pyproject.toml", self.lines, table, key)
        return f"{head} '{key}'" if key else head


def _head(path: Path, lines: Mapping[str, int], table: str, key: str) -> str:
    """``path:LINE: [tool.newsletter.TABLE]``, with the line of ``key`` (or the table)."""
    parts = ".".join(p for p in (table, key) if p).split(".")
    # A key inside an inline table ({ dkim = 3 }) has the line of the key holding it.
    found = (lines.get(".".join(parts[:n])) for n in range(len(parts), 0, -1))
    line = next((n for n in found if n), None)
    head = f"{path}:{line}" if line else f"{path}"
    return f"{head}: [{TABLE}.{table}]" if table else f"{head}: [{TABLE}]"


def load_settings(root: Path) -> Settings:
    """Read and validate ``[tool.newsletter]``; raise NewsletterError naming file, line and key."""
    path = root / "pyproject.toml"
    if not path.exists():
        raise NewsletterError(
            f"{path}: not found. Run newsletter from the project folder or pass --root DIR."
        )
    try:
        source = decode(read_regular(path, MAX_TEXT_BYTES))
        data = read_toml(source)
    except (NotRegular, TooLarge) as exc:
        fix = "Keep the house settings in pyproject.toml, a text file."
        raise NewsletterError(f"{path}: {exc.strerror}. {fix}") from None
    except NotUTF8 as exc:
        raise NewsletterError(f"{path}:{exc.line}: {exc.reason}") from None
    except UnreadableToml as exc:
        head = f"{path}:{exc.line}" if exc.line else f"{path}"
        raise NewsletterError(f"{head}: {exc.message}") from None
    except OSError as exc:
        raise NewsletterError(f"{path}: cannot be read ({exc.strerror}).") from None
    every_line = toml_lines(source)
    tool, table = data.get("tool"), None
    for name, value in (("tool", tool), ("tool.newsletter", _get(tool, "newsletter"))):
        if name in every_line and not isinstance(value, dict):
            raise NewsletterError(
                f"{path}:{every_line[name]}: '{name}' must be a table, not {_kind(value)}. "
                f"Write the house settings under [{TABLE}]."
            )
        table = value
    if not isinstance(table, dict):
        raise NewsletterError(f"{path}: no [tool.newsletter] table. Add the house settings.")
    lines = lines_under(every_line, TABLE)
    house = HOUSE.check(table, lines)
    if house.errors:
        error = house.errors[0]
        raise NewsletterError(f"{_head(path, lines, '', error.key)} {error.message}")
    v = house.values
    return Settings(
        root=root,
        name=v["name"],
        from_name=v["from_name"],
        from_address=v["from_address"],
        postal_address=v["postal_address"],
        web_url=v["web_url"],
        sections=v["sections"],
        reply_to=v["reply_to"],
        contributions_address=v["contributions_address"],
        language=v["language"],
        list_id=v["list_id"],
        greeting=v["greeting"],
        readership=v["readership"],
        approval=v["approval"],
        attribution=v["attribution"],
        sources=_sources(path, lines, v["sources"]),
        senders=_senders(path, lines, v["senders"]),
        send=_send(path, lines, v["send"]),
        path=path,
        lines=lines,
        build_inputs=json.dumps(
            {k: val for k, val in table.items() if k not in NOT_BUILD_INPUTS},
            sort_keys=True,
            default=str,
        ),
    )


def _get(table: object, key: str) -> object:
    return table.get(key) if isinstance(table, dict) else None


def _kind(value: object) -> str:
    """What a value is, for "must be a table, not a number"."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    return "a list" if isinstance(value, list) else "a date"


def _send(path: Path, lines: Mapping[str, int], raw: object) -> SendSettings:
    if not isinstance(raw, dict):
        raise NewsletterError(f"{_head(path, lines, '', 'send')} 'send' must be a table.")
    checked = SEND.check(raw, lines_under(lines, "send"))
    if checked.errors:
        error = checked.errors[0]
        table = "send.dkim" if error.key.startswith("dkim") else "send"
        key = "" if table == "send.dkim" else error.key
        raise NewsletterError(f"{_head(path, lines, table, key)} {error.message}")
    return SendSettings(**checked.values)


def with_overrides(send: SendSettings, **overrides: Any) -> SendSettings:
    """Command-line options (None: not given) over the settings; the CLI types them."""
    given = {k: v for k, v in overrides.items() if v is not None}
    return SendSettings(**{**send.__dict__, **given})


def _sources(path: Path, lines: Mapping[str, int], raw: object) -> tuple[Source, ...]:
    if not isinstance(raw, list):
        raise NewsletterError(f"{_head(path, lines, '', 'sources')} 'sources' must be a list.")
    found: list[Source] = []
    for n, entry in enumerate(raw, 1):
        label = f"{_head(path, lines, '', 'sources')} 'sources' entry {n}"
        if not isinstance(entry, dict):
            raise NewsletterError(f"{label} must be a table such as {SOURCE_EXAMPLE}.")
        checked = SOURCE.check(entry)
        if checked.errors:
            raise NewsletterError(f"{label}: {checked.errors[0].message}")
        v = checked.values
        where = [k for k in ("path", "url") if v.get(k)]
        if len(where) != 1:
            raise NewsletterError(f"{label}: give exactly one of 'path' or 'url' as a string.")
        location = v[where[0]]
        if where == ["url"] and not _valid_url(location):
            raise NewsletterError(
                f"{label}: url {shown(location)} is not an http(s) URL. Copy it from the browser."
            )
        if where == ["path"] and v["allow_private"]:
            raise NewsletterError(
                f"{label}: 'allow_private' is for a 'url' on your own network; a 'path' needs "
                "none. Remove it."
            )
        name = v["name"] or v["organisation"]
        if name in {s.name for s in found}:
            raise NewsletterError(
                f"{label}: the name {shown(name)} is used twice. Give each a 'name'."
            )
        found.append(
            Source(
                name,
                v["organisation"],
                location,
                where == ["url"],
                v["format"],
                v["timeout"],
                v["allow_private"],
            )
        )
    return tuple(found)


def _valid_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError:
        return False
    return (
        parts.scheme.lower() in ("http", "https")
        and bool(parts.hostname)
        and not any(c.isspace() for c in url)
    )


def _senders(path: Path, lines: Mapping[str, int], raw: object) -> dict[str, SenderTable]:
    if not isinstance(raw, dict):
        raise NewsletterError(f"{_head(path, lines, '', 'senders')} 'senders' must be a table.")
    found = {}
    for name, table in raw.items():
        label = _head(path, lines, f"senders.{name}", "")
        if not isinstance(table, dict):
            raise NewsletterError(f"{label} must be a table of options.")
        options = dict(table)
        plugin = options.pop("plugin", name)  # lets two configurations share one plugin
        if not isinstance(plugin, str) or not plugin:
            raise NewsletterError(f"{label} 'plugin' must be the name of an installed sender.")
        found[name] = SenderTable(name, plugin, options)
    return found
