"""Senders: plugins that hand one finished message to a mail service.

A sender is a class registered in the ``newsletter.senders`` entry-point
group; the built-in ``outbox``, ``smtp`` and ``ses`` register there in our own
pyproject.toml, exactly as a third-party package would. The class declares
the options it accepts; it is built with the merged options from
``[tool.newsletter.senders.NAME]`` and ``-o KEY=VALUE``, once per connection.

A plugin looks like this::

    class MySender:
        description = "One line for `newsletter senders`."
        options = {"api_key_env": str, "timeout": float}  # or a newsletter.schema.Schema
        delivers = True   # mail leaves the machine: NEWSLETTER_SECRET is required
        limits = Limits(per_minute=30, per_day=10_000)  # optional: the service's own caps

        def __init__(self, options: dict, context: SenderContext) -> None: ...
        def open(self) -> None: ...            # raise SenderError when it cannot work at all
        def send(self, message: Message, data: bytes) -> Result: ...
        def close(self) -> None: ...

``message.mail_from`` is that message's envelope sender. With a signed return
path (``return_path = "bounces+{token}@..."``) it differs from message to
message, so a sender uses it for each message (SMTP's MAIL FROM; for a service
that sets its own envelope sender, the address it forwards bounces and
complaints to), never one address fixed when it opens.

``limits`` may also be set (or lowered) by the end of ``open()``, when the
service states its caps only once asked (SES's MaxSendRate, as ``per_second``):
the run then keeps under the strictest of its settings and every cap.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any, Protocol

import click

from newsletter.config import SenderTable, Settings
from newsletter.errors import BadUsage, NewsletterError
from newsletter.models import Message
from newsletter.schema import Field, Schema, anything, boolean, number, shown, text, whole
from newsletter.send.throttle import strictest

GROUP = "newsletter.senders"
SENT, TEMPORARY, PERMANENT, UNCERTAIN = "sent", "temporary", "permanent", "uncertain"


@dataclass(frozen=True)
class Result:
    """What became of one message.

    ``temporary`` means not accepted, so it is retried; ``uncertain`` means
    no answer came after the whole message was handed over (a timeout or a
    lost connection), so it may have been accepted and is resent only with
    --retry-uncertain.
    """

    status: str  # SENT, TEMPORARY, PERMANENT or UNCERTAIN
    reply: str = ""


@dataclass(frozen=True)
class Limits:
    """A mail service's own caps (0: none), which the run keeps to on top of its settings.

    A sender instance may have a ``limits`` attribute; a provider preset fills it, or
    ``open()`` when the service tells its own (SES's MaxSendRate).
    """

    per_minute: int = 0
    per_day: int = 0  # in any 24 hours, counting earlier runs
    per_second: float = 0.0  # all connections together

    @property
    def rate(self) -> float:
        """Messages a second the run may send under these caps (0: no cap)."""
        return strictest(self.per_second, self.per_minute / 60)


@dataclass(frozen=True)
class SenderContext:
    name: str  # the name the ledger records, e.g. "smtp" or "office-relay"
    issue_id: str
    issue_dir: Path
    settings: Settings
    typed: Mapping[str, str] = field(default_factory=dict)  # -o KEY=VALUE of this run

    def mistake(self, message: str, *keys: str) -> click.ClickException:
        """The error for a wrong option among ``keys``, blamed where it was set: a usage
        error naming ``-o KEY=VALUE`` when it was typed for this run (exit 2), else the
        settings table (exit 1)."""
        typed = [k for k in keys if k in self.typed]
        if typed:
            return BadUsage(f"{typed_option(typed[0], self.typed[typed[0]], self.name)} {message}")
        return SenderError(f"{self.settings.where(table=f'senders.{self.name}')} {message}")


def typed_option(key: str, value: str, sender: str) -> str:
    """``-o port=70000 (sender smtp):``, the value cut to a preview, for messages."""
    return f"-o {shown(f'{key}={value}', 60, quote=False)} (sender {sender}):"


class SenderError(NewsletterError):
    """The sender cannot work at all (bad options, refused login): the run stops."""


class Sender(Protocol):
    def open(self) -> None: ...
    def send(self, message: Message, data: bytes) -> Result: ...
    def close(self) -> None: ...


class SenderFactory(Protocol):
    """A plugin's class: built with its checked options, once per connection."""

    def __call__(self, options: dict[str, Any], context: SenderContext) -> Sender: ...


@dataclass(frozen=True)
class SenderSpec:
    """A loaded plugin with validated options; ``new()`` makes one connection's sender."""

    name: str
    plugin: str
    factory: SenderFactory
    options: Mapping[str, Any]
    context: SenderContext

    @property
    def delivers(self) -> bool:
        return bool(getattr(self.factory, "delivers", True))  # unknown plugins: assume real

    def new(self) -> Sender:
        return self.factory(dict(self.options), self.context)

    @property
    def limits(self) -> Limits:
        """The caps the plugin declares for these options (building one connects nothing)."""
        found = getattr(self.new(), "limits", None)
        return found if isinstance(found, Limits) else Limits()


def _entry_points() -> dict[str, EntryPoint]:
    return _entry_points_on(tuple(sys.path))


@functools.lru_cache(maxsize=4)
def _entry_points_on(path: tuple[str, ...]) -> dict[str, EntryPoint]:
    """The group's entry points where ``path`` finds them: scanning every installed
    distribution's metadata costs about 2 ms, once per message that ``serve`` or
    ``intake`` acknowledges if not kept; a changed ``sys.path`` looks again."""
    return {ep.name: ep for ep in entry_points(group=GROUP)}


@dataclass(frozen=True)
class Installed:
    name: str
    dist: str
    description: str
    options: tuple[str, ...]
    error: str = ""


def installed() -> list[Installed]:
    """Every sender in the entry-point group, loaded to read its description."""
    found = []
    for name, ep in sorted(_entry_points().items()):
        dist = f"{ep.dist.name} {ep.dist.version}" if ep.dist else "?"
        try:
            cls = ep.load()
        except Exception as exc:  # a broken plugin is listed, not fatal
            found.append(Installed(name, dist, "", (), f"cannot load {ep.value}: {exc}"))
            continue
        doc = getattr(cls, "description", "") or (cls.__doc__ or "").strip().split("\n")[0]
        found.append(Installed(name, dist, doc, options_schema(cls).names))
    return found


# How a plugin's ``options = {"port": int}`` declaration is read: as schema kinds.
_KINDS = {str: text(one_line=False), int: whole(), float: number(), bool: boolean()}


def options_schema(factory: object) -> Schema:
    """The plugin's options as a Schema: its own, or one made from ``{name: type}``."""
    declared = getattr(factory, "options", {})
    if isinstance(declared, Schema):
        return declared
    fields = (Field(k, _KINDS.get(t, anything())) for k, t in sorted(declared.items()))
    return Schema(fields=tuple(fields), unknown_word="option")


def parse_overrides(pairs: tuple[str, ...]) -> dict[str, str]:
    """``-o KEY=VALUE`` pairs as a dict; values stay strings until the plugin's types apply."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise BadUsage(
                f"-o {shown(pair, 60, quote=False)}: expected KEY=VALUE, e.g. -o port=2525."
            )
        out[key.strip()] = value
    return out


def load_sender(
    name: str, overrides: Mapping[str, str], settings: Settings, issue_id: str, issue_dir: Path
) -> SenderSpec:
    """The sender called ``name``, with options from pyproject.toml and the command line."""
    table = settings.senders.get(name) or SenderTable(name, name, {})
    eps = _entry_points()
    if table.plugin not in eps:
        names = ", ".join(sorted(eps)) or "none"
        raise NewsletterError(
            f"sender {shown(str(table.plugin))}: not installed. Installed senders: {names}. "
            "List them with: newsletter senders"
        )
    factory = eps[table.plugin].load()
    schema = options_schema(factory)
    options: dict[str, Any] = {}
    context = SenderContext(name, issue_id, issue_dir, settings, dict(overrides))
    for values, typed in ((table.options, False), (overrides, True)):
        checked = schema.check(values, text=typed)
        if checked.errors:
            error = checked.errors[0]
            key = error.key.partition(".")[0] if typed else ""
            raise context.mistake(error.message, key)
        # An empty value ("-o security=", security = "") means the option's default.
        options.update({k: v for k, v in checked.values.items() if k in values and v is not None})
    spec = SenderSpec(name, table.plugin, factory, options, context)
    spec.new()  # constructing validates the options, before anything is sent
    return spec
