"""Review and approval of an issue's build before it is sent.

``ask`` mails a reviewer a signed, expiring link (``tokens.REVIEW``) through
``send``'s senders; ``web`` is the reviewer's page on ``serve``
(``/review/<token>``): the build, read-only, a comment form and **Approve**.
Every row (link, comment, approval) is kept in ``store.reviews`` with the
build's input digest; ``send.check_approval`` reads them under
``approval = "required"``.
"""

from newsletter.review.links import Asked, Standing, ask, entries, standing
from newsletter.review.web import blueprint

__all__ = ["Asked", "Standing", "ask", "blueprint", "entries", "standing"]
