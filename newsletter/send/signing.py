"""DKIM: rsa-sha256, relaxed/relaxed, over the exact bytes that are sent.

dkimpy signs in pure Python (about 11 ms a message here, RSA and body
canonicalisation both), which would cap a send near 90 msg/s. So the
signature is made with ``cryptography`` (OpenSSL), and the body hash is fed
from canonical chunks the composer prepared once per issue. The tests check
every signature with dkimpy's independent ``dkim.verify``.

The key comes from an environment variable or a file outside the project,
and is never logged.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import time
from pathlib import Path

from newsletter.config import Dkim
from newsletter.errors import NewsletterError
from newsletter.files import NotRegular, TooLarge, read_regular

# Signed when present; listed even when absent, so none can be added later.
SIGNED = (
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "list-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "feedback-id",
    "reply-to",
    "mime-version",
    "content-type",
)
# Listed once more than they occur, so a copy added anywhere breaks the signature:
# a second From or Subject, or a forged List-Unsubscribe above ours, which a
# client might follow instead (RFC 8058 section 4 asks for both List-Unsubscribe
# headers to be signed).
OVERSIGNED = (
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "content-type",
    "list-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
)
_WSP_RUN = re.compile(rb"[ \t]+")
_WSP_EOL = re.compile(rb" \r\n")
_STR_WSP = re.compile(r"[ \t]+")

MAX_KEY_BYTES = 64 * 1024  # a PEM RSA key of 8,192 bits is under 7 KB


def relaxed_body(chunk: bytes) -> bytes:
    """Relaxed body canonicalisation of whole lines (RFC 6376 3.4.4).

    Trailing empty lines are not removed: the composer's last chunk ends with
    the closing boundary, so the body never ends with one.
    """
    if b" " not in chunk and b"\t" not in chunk:
        return chunk
    return _WSP_EOL.sub(b"\r\n", _WSP_RUN.sub(b" ", chunk))


def relaxed_header(name: str, value: str) -> bytes:
    """Relaxed header canonicalisation (RFC 6376 3.4.2), with its CRLF."""
    value = _STR_WSP.sub(" ", value.replace("\r\n", "")).strip()
    return f"{name.lower()}:{value}\r\n".encode("ascii")


class Signer:
    """Signs composed messages for one domain and selector."""

    def __init__(self, domain: str, selector: str, key_pem: bytes, where: str) -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        try:
            key = load_pem_private_key(key_pem, password=None)
        except (ValueError, TypeError):
            raise NewsletterError(
                f"{where} the DKIM key is not an unencrypted PEM private key. "
                "Export it with: openssl pkey -in KEY -out dkim.pem"
            ) from None
        if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < 1024:
            raise NewsletterError(
                f"{where} the DKIM key must be an RSA key of 1024 bits or more (2048 advised)."
            )
        self.domain = domain
        self.selector = selector
        self._key = key
        # Folded after a colon (FWS is allowed there) to keep lines short.
        lines = [""]
        for name in SIGNED + OVERSIGNED:
            if len(lines[-1]) + len(name) > 64:
                lines.append("")
            lines[-1] += name + ":"
        self._h = "\r\n ".join(lines)[:-1]

    def sign(self, pairs: list[tuple[str, str]], canon_body: list[bytes]) -> bytes:
        """The DKIM-Signature header line for these headers and canonical body chunks."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        digest = hashlib.sha256()
        for chunk in canon_body:
            digest.update(chunk)
        bh = base64.b64encode(digest.digest()).decode("ascii")
        present = {name.lower(): value for name, value in pairs}
        signed = b"".join(relaxed_header(n, present[n]) for n in SIGNED if n in present)
        value = (
            f"v=1; a=rsa-sha256; c=relaxed/relaxed; d={self.domain}; s={self.selector};\r\n"
            f" t={int(time.time())}; h={self._h};\r\n bh={bh};\r\n b="
        )
        signed += relaxed_header("dkim-signature", value)[:-2]  # no CRLF after the last one
        sig = base64.b64encode(self._key.sign(signed, padding.PKCS1v15(), hashes.SHA256()))
        folded = b"\r\n ".join(sig[i : i + 72] for i in range(0, len(sig), 72))
        return b"DKIM-Signature: " + value.encode("ascii") + folded + b"\r\n"


def load_signer(dkim: Dkim | None, root: Path, default_domain: str, where: str) -> Signer | None:
    """A Signer for ``[tool.newsletter.send.dkim]``; None when DKIM is not configured.

    ``where`` names the table in messages. The key is read here, at send time,
    from the environment or a file outside the project, and never logged.
    """
    if dkim is None:
        return None
    if dkim.key_env:
        text = os.environ.get(dkim.key_env, "")
        if not text:
            raise NewsletterError(
                f"{where} environment variable {dkim.key_env} is empty. "
                "Export the PEM private key in it."
            )
        # CI secret stores often keep a PEM's line breaks as literal "\n".
        pem = text.replace("\\n", "\n").encode("utf-8")
    else:
        path = Path(dkim.key_file).expanduser()
        path = path if path.is_absolute() else root / path
        if path.resolve().is_relative_to(root.resolve()):
            raise NewsletterError(
                f"{where} key_file {path} is inside the project folder. Keep keys out of the "
                "repository: move it (e.g. to ~/.config/newsletter/dkim.pem) or use key_env."
            )
        try:
            # Opened without waiting and looked at first: a FIFO here hung send.
            pem = read_regular(path, MAX_KEY_BYTES)
        except (NotRegular, TooLarge) as exc:
            raise NewsletterError(
                f"{where} key_file {path} {exc.strerror}. Give the PEM file of the key."
            ) from None
        except OSError as exc:
            raise NewsletterError(
                f"{where} cannot read key_file {path} ({exc.strerror}). Check the path."
            ) from None
    # The settings checked both names are DNS names in ASCII; default_domain is
    # from_address's domain, already in ASCII (headers.check_address).
    return Signer(dkim.domain or default_domain, dkim.selector, pem, where)
