"""The default sender: one .eml file per recipient in issues/ID/outbox/.

Nothing leaves the machine, so a rehearsal can be opened in any mail client
and diffed. Files land by rename, so a crash never leaves half a message.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from newsletter.errors import NewsletterError
from newsletter.files import check_folder, write_atomic
from newsletter.send.senders import SENT, Message, Result, SenderContext, SenderError

_UNSAFE = re.compile(r"[^A-Za-z0-9@._+-]")


class OutboxSender:
    description = (
        "Write one .eml file per recipient to issues/ID/outbox/; nothing leaves the machine."
    )
    options = {"folder": str}
    delivers = False

    def __init__(self, options: dict[str, Any], context: SenderContext) -> None:
        folder = Path(options.get("folder") or "outbox").expanduser()
        self.folder = folder if folder.is_absolute() else context.issue_dir / folder

    def open(self) -> None:
        # folder=/dev/null or a file: one line before anything is sent (files.check_folder).
        try:
            check_folder(self.folder)
            self.folder.mkdir(parents=True, exist_ok=True)
        except NewsletterError as exc:
            raise SenderError(f"outbox option folder: {exc.message}") from None
        except OSError as exc:
            raise SenderError(
                f"outbox option folder: {self.folder}: cannot be made ({exc.strerror}). "
                "Give a folder you can write to."
            ) from None

    def send(self, message: Message, data: bytes) -> Result:
        # Named by address (unique among contacts) so a retry overwrites, never adds.
        name = _UNSAFE.sub("_", message.recipient)
        if name != message.recipient or len(name) > 200:
            # Replaced or cut: a digest keeps "a=b@x.org" and "a_b@x.org" in two files.
            digest = hashlib.sha256(message.recipient.encode("utf-8")).hexdigest()[:12]
            name = f"{name[:180]}-{digest}"
        name += ".eml"
        if message.test:
            name = "test-" + name
        write_atomic(self.folder / name, data)
        return Result(SENT, f"written {self.folder.name}/{name}")

    def close(self) -> None:
        pass
