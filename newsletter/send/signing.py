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
from typing import Any

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


class _Key:
    """One signature a Signer makes: its algorithm, selector and private key."""

    def __init__(self, algorithm: str, selector: str, key: Any) -> None:
        self.algorithm, self.selector, self._key = algorithm, selector, key

    def sign(self, data: bytes) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        if self.algorithm == "ed25519-sha256":
            # RFC 8463 3: PureEdDSA over the SHA-256 hash of the signed headers.
            return bytes(self._key.sign(hashlib.sha256(data).digest()))
        return bytes(self._key.sign(data, padding.PKCS1v15(), hashes.SHA256()))


def _rsa_key(key_pem: bytes, where: str) -> Any:
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
            f"{where} the DKIM key must be an RSA key of 1024 bits or more (2048 advised); "
            "an Ed25519 key goes in ed25519_key_env or ed25519_key_file."
        )
    return key


def _ed25519_key(data: bytes, where: str, setting: str) -> Any:
    """An Ed25519 private key from PEM (openssl genpkey) or the base64 seed dknewkey writes."""
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key: object = None
    try:
        if b"-----BEGIN" in data:
            key = load_pem_private_key(data, password=None)
        else:
            seed = base64.b64decode(b"".join(data.split()), validate=True)
            key = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    except (ValueError, TypeError):
        pass
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise NewsletterError(
            f"{where} {setting}: the key is not an Ed25519 private key (unencrypted PEM, or "
            "the base64 seed dknewkey writes). Make one with: "
            "openssl genpkey -algorithm ed25519 -out dkim-ed25519.pem"
        )
    return key


class Signer:
    """Signs composed messages for one domain: an RSA signature, and an Ed25519 one if given.

    ``ed25519`` is (selector, key, setting): the key as PEM or dknewkey's base64
    seed, and the setting it came from, for the message when it is no key.
    """

    def __init__(
        self,
        domain: str,
        selector: str,
        key_pem: bytes,
        where: str,
        ed25519: tuple[str, bytes, str] | None = None,
    ) -> None:
        self.domain = domain
        self.selector = selector
        self.keys = [_Key("rsa-sha256", selector, _rsa_key(key_pem, where))]
        if ed25519:
            ed_selector, data, setting = ed25519
            self.keys.append(
                _Key("ed25519-sha256", ed_selector, _ed25519_key(data, where, setting))
            )
        # Folded after a colon (FWS is allowed there) to keep lines short.
        lines = [""]
        for name in SIGNED + OVERSIGNED:
            if len(lines[-1]) + len(name) > 64:
                lines.append("")
            lines[-1] += name + ":"
        self._h = "\r\n ".join(lines)[:-1]

    def sign(self, pairs: list[tuple[str, str]], canon_body: list[bytes]) -> bytes:
        """The DKIM-Signature header lines, RSA first, for these headers and canonical body.

        Every signature covers the same headers and the one body hash; none
        covers another, so receivers check each on its own (RFC 8463 4).
        """
        digest = hashlib.sha256()
        for chunk in canon_body:
            digest.update(chunk)
        bh = base64.b64encode(digest.digest()).decode("ascii")
        present = {name.lower(): value for name, value in pairs}
        signed = b"".join(relaxed_header(n, present[n]) for n in SIGNED if n in present)
        now = int(time.time())
        lines = []
        for key in self.keys:
            value = (
                f"v=1; a={key.algorithm}; c=relaxed/relaxed; d={self.domain}; s={key.selector};"
                f"\r\n t={now}; h={self._h};\r\n bh={bh};\r\n b="
            )
            # No CRLF after the signature's own header, the last one signed.
            sig = base64.b64encode(key.sign(signed + relaxed_header("dkim-signature", value)[:-2]))
            folded = b"\r\n ".join(sig[i : i + 72] for i in range(0, len(sig), 72))
            lines.append(b"DKIM-Signature: " + value.encode("ascii") + folded + b"\r\n")
        return b"".join(lines)


def _read_key(env: str, file: str, root: Path, where: str, prefix: str) -> bytes:
    """The key text from the variable ``env`` or the file ``file`` outside ``root``.

    ``prefix`` is "" or "ed25519_": the settings' names, in messages.
    """
    if env:
        text = os.environ.get(env, "")
        if not text:
            raise NewsletterError(
                f"{where} {prefix}key_env {env} is empty. "
                "Export the private key in that environment variable."
            )
        # CI secret stores often keep a PEM's line breaks as literal "\n".
        return text.replace("\\n", "\n").encode("utf-8")
    path = Path(file).expanduser()
    path = path if path.is_absolute() else root / path
    if path.resolve().is_relative_to(root.resolve()):
        raise NewsletterError(
            f"{where} {prefix}key_file {path} is inside the project folder. Keep keys out of the "
            f"repository: move it (e.g. to ~/.config/newsletter/) or use {prefix}key_env."
        )
    try:
        # Opened without waiting and looked at first: a FIFO here hung send.
        return read_regular(path, MAX_KEY_BYTES)
    except (NotRegular, TooLarge) as exc:
        raise NewsletterError(
            f"{where} {prefix}key_file {path} {exc.strerror}. Give the PEM file of the key."
        ) from None
    except OSError as exc:
        raise NewsletterError(
            f"{where} cannot read {prefix}key_file {path} ({exc.strerror}). Check the path."
        ) from None


def load_signer(dkim: Dkim | None, root: Path, default_domain: str, where: str) -> Signer | None:
    """A Signer for ``[tool.newsletter.send.dkim]``; None when DKIM is not configured.

    ``where`` names the table in messages. The keys are read here, at send time,
    from the environment or a file outside the project, and never logged.
    """
    if dkim is None:
        return None
    pem = _read_key(dkim.key_env, dkim.key_file, root, where, "")
    ed25519 = None
    if dkim.ed25519_selector:
        data = _read_key(dkim.ed25519_key_env, dkim.ed25519_key_file, root, where, "ed25519_")
        setting = "ed25519_key_env" if dkim.ed25519_key_env else "ed25519_key_file"
        ed25519 = (dkim.ed25519_selector, data, setting)
    # The settings checked both names are DNS names in ASCII; default_domain is
    # from_address's domain, already in ASCII (headers.check_address).
    return Signer(dkim.domain or default_domain, dkim.selector, pem, where, ed25519)
