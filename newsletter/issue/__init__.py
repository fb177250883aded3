"""An issue on disk: ``issues/ID/`` with issue.toml, intro.md, items/ and inbox/.

``load_issue`` turns the folder into an ``Issue`` (or every problem with it);
``read_meta`` is the one reader of issue.toml; the inbox holds candidates that
feeds and contributors (``intake``) propose, as item files; ``edit`` is an item as
the desk's form shows it, and the form saved as the file.
"""

from newsletter.issue.edit import (
    Changed,
    Draft,
    FormField,
    NoItem,
    Refused,
    Saved,
    form_fields,
    item_form,
    save_item,
)
from newsletter.issue.folder import issue_folder, issue_ids
from newsletter.issue.inbox import (
    Candidate,
    Keys,
    Listed,
    free_name,
    known_keys,
    list_inbox,
    list_items,
    move_to_items,
    read_keys,
    resolve,
    write_candidates,
)
from newsletter.issue.items import load_item, split_front_matter, summary_of
from newsletter.issue.keys import FeedGuid, canonical_url, has_guid, title_key
from newsletter.issue.load import CheckFailed, load_issue
from newsletter.issue.meta import (
    Meta,
    MetaResult,
    issue_window,
    next_number,
    previous_issue_date,
    quarter_window,
    read_meta,
)
from newsletter.issue.scaffold import new_issue

__all__ = [
    "Candidate",
    "Changed",
    "CheckFailed",
    "Draft",
    "FeedGuid",
    "FormField",
    "Keys",
    "Listed",
    "Meta",
    "MetaResult",
    "NoItem",
    "Refused",
    "Saved",
    "canonical_url",
    "form_fields",
    "free_name",
    "has_guid",
    "issue_folder",
    "issue_ids",
    "issue_window",
    "item_form",
    "known_keys",
    "list_inbox",
    "list_items",
    "load_issue",
    "load_item",
    "move_to_items",
    "new_issue",
    "next_number",
    "previous_issue_date",
    "quarter_window",
    "read_keys",
    "read_meta",
    "resolve",
    "save_item",
    "split_front_matter",
    "summary_of",
    "title_key",
    "write_candidates",
]
