"""The public archive: a static site of the published issues, the directory without
addresses, an Atom feed and iCalendar files; and whether an issue is published."""

from newsletter.publish.archive import ArchiveResult, build_archive
from newsletter.publish.publication import Change, Status, set_published, status_of

__all__ = ["ArchiveResult", "Change", "Status", "build_archive", "set_published", "status_of"]
