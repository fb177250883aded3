"""Header values: refuse anything that could add a header, encode the rest.

Names come from imports and subjects from editors, so a value is checked
before it goes anywhere near a header: a raw, Unicode or encoded line break
(RFC 2047 encoded word, %0A, =0A) is refused with the field named. What
passes is still encoded, never pasted, so even a miss could not add a line.
"""

from __future__ import annotations

import base64
import re

from newsletter.errors import NewsletterError
from newsletter.schema import header_problem, host_problem

# RFC 5322 "specials": a display name with any of them must be quoted.
_SPECIALS = re.compile(r'[()<>\[\]:;@\\,."]')
_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")  # RFC 5322 atext
_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+")
FOLD = "\r\n "
# 39 bytes make 52 base64 characters: "Subject: " plus the 64-character word is
# 73, inside RFC 2047's 76 for a line that holds an encoded word.
_PAYLOAD = 39
MAX_PLAIN_NAME = 60  # longer names (and words) are encoded, so they can be folded


class HeaderInjection(NewsletterError):
    """A value that would break out of its header."""


def address_problem(address: str) -> str | None:
    """Why ``address`` may not be an envelope or To address, or None."""
    problem = header_problem(address)
    if problem:
        return problem
    local, _, domain = address.rpartition("@")
    if not local or not domain:
        return "is not an email address"
    if not local.isascii():
        return "has a non-ASCII local part, which needs SMTPUTF8 (not supported)"
    problem = host_problem(domain)
    if problem:
        return f"has a domain that {problem}"
    ascii_domain = domain.encode("idna").decode("ascii")
    if not _ADDRESS.fullmatch(f"{local}@{ascii_domain}") or ".." in local:
        return "has characters that are not allowed in an address"
    return None


def check(value: str, where: str, field: str) -> str:
    """``value`` unchanged, or a HeaderInjection naming ``where`` and ``field``."""
    problem = header_problem(value)
    if problem:
        raise HeaderInjection(
            f"{where}: {field} {problem}, which could add a header. "
            f"Remove it from the {field} and run again."
        )
    return value


def check_address(address: str, where: str) -> str:
    """The address with its domain in ASCII (IDNA), or a HeaderInjection."""
    problem = address_problem(address)
    if problem:
        raise HeaderInjection(f"{where}: address {problem}. Correct the address and run again.")
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.encode('idna').decode('ascii')}"


def encoded_words(text: str, at_spaces: bool = False) -> list[str]:
    """RFC 2047 base64 words, short enough that a folded line stays within 76 characters.

    ``at_spaces``: cut after a space where one is near, so a reader that wrongly
    shows the fold between two words as a space (Python's address parser does)
    shows a doubled space, not one inside a word.
    """
    data = text.encode("utf-8")
    if len(data) <= _PAYLOAD:
        return [f"=?utf-8?b?{base64.b64encode(data).decode('ascii')}?="]
    words, current = [], ""
    for char in text:
        if len((current + char).encode("utf-8")) > _PAYLOAD:  # never split a character
            cut = current.rfind(" ") + 1 if at_spaces else 0
            cut = cut if cut > len(current) // 2 else len(current)
            words.append(current[:cut])
            current = current[cut:]
        current += char
    words.append(current)
    return [f"=?utf-8?b?{base64.b64encode(w.encode()).decode('ascii')}?=" for w in words]


def _is_plain(text: str) -> bool:
    return text.isascii() and text.isprintable() and "=?" not in text and text == text.strip()


def _phrase(name: str) -> list[str]:
    """A display name as atoms, a quoted string or encoded words, in pieces a fold may
    separate (a space, in the name, between each)."""
    words = name.split(" ")
    if _is_plain(name) and max(map(len, words)) <= MAX_PLAIN_NAME:
        if _SPECIALS.search(name) or "  " in name:
            return ('"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"').split(" ")
        return words
    if not name.isprintable() or name != " ".join(filter(None, words)):
        return encoded_words(name, at_spaces=True)  # odd spacing or tabs: encoded whole
    # Words that can stay atoms do, and each run of the others becomes encoded
    # words: whitespace between an atom and an encoded word counts, but between
    # two encoded words it is dropped (RFC 2047), so a run keeps its spaces inside.
    pieces: list[str] = []
    run: list[str] = []
    for word in [*words, ""]:
        if word and _ATOM.fullmatch(word) and "=?" not in word and len(word) <= MAX_PLAIN_NAME:
            pieces += encoded_words(" ".join(run), at_spaces=True) if run else []
            pieces.append(word)
            run = []
        elif word:
            run.append(word)
    return pieces + (encoded_words(" ".join(run), at_spaces=True) if run else [])


def mailbox(name: str, address: str) -> str:
    """``Name <address>``: the name as it is, quoted or encoded, folded to short lines."""
    if not name.strip():
        return f"<{address}>"
    out, width = "", len("List-Id: ")  # the longest header name a mailbox follows here
    for piece in [*_phrase(name), f"<{address}>"]:
        if out and piece and width + 1 + len(piece) > 76:
            out, width = out + FOLD + piece, 1 + len(piece)
        else:
            out, width = out + (" " if out else "") + piece, width + 1 + len(piece)
    return out


def unstructured(text: str, name: str = "Subject") -> str:
    """A Subject-like value: plain ASCII folded at spaces, anything else encoded."""
    if not _is_plain(text) or max(map(len, text.split(" "))) > MAX_PLAIN_NAME:
        return FOLD.join(encoded_words(text))  # encoded words fold where plain words cannot
    lines, width = [""], len(name) + 2
    for n, word in enumerate(text.split(" ")):
        if n and len(lines[-1]) + 1 + len(word) + width > 76 and lines[-1].strip():
            lines.append("")
            width = 0
        lines[-1] += (" " if n else "") + word
    return "\r\n".join(lines)
