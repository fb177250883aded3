"""Contact lists in and out of contacts.db, and the directory section of an issue.

Import, sync and export lists; add, edit, remove and purge one contact; the
rules for each field (``fields``); the focal-point directory an issue
carries (``directory``), how current it is (``freshness``) and the advice on
its data (``checks``). The rows themselves live in ``store.contacts``.
"""

from newsletter.contacts.checks import CheckResult, check
from newsletter.contacts.directory import (
    Directory,
    build_directory,
    directory_for,
    directory_source,
)
from newsletter.contacts.exports import export_contacts, export_text
from newsletter.contacts.fields import PREVIEW
from newsletter.contacts.freshness import Freshness, freshness
from newsletter.contacts.imports import Plan, import_file
from newsletter.contacts.manage import (
    add_contact,
    contact_history,
    edit_contact,
    existing_contact,
    purge_contact,
    remove_contact,
    unsubscribe_contact,
)
from newsletter.contacts.sync import SyncResult, sync
from newsletter.store.contacts import find_contacts, history_text

__all__ = [
    "PREVIEW",
    "CheckResult",
    "Directory",
    "Freshness",
    "Plan",
    "SyncResult",
    "add_contact",
    "contact_history",
    "build_directory",
    "check",
    "directory_for",
    "directory_source",
    "edit_contact",
    "existing_contact",
    "export_contacts",
    "export_text",
    "find_contacts",
    "freshness",
    "history_text",
    "import_file",
    "purge_contact",
    "remove_contact",
    "sync",
    "unsubscribe_contact",
]
