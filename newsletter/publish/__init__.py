"""The public archive: a static site of the sent issues, the directory without
addresses, an Atom feed and iCalendar files."""

from newsletter.publish.archive import ArchiveResult, build_archive

__all__ = ["ArchiveResult", "build_archive"]
