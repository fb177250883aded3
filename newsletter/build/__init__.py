"""An issue into ``build/``: Jinja, MJML, the text part, the web page, the audit report,
the live preview and the browser checks."""

from newsletter.build.browser import check_layout
from newsletter.build.pipeline import (
    BuildResult,
    DirectorySource,
    build,
    build_issue,
    input_digest,
)
from newsletter.build.preview import (
    WIDTHS,
    Inbox,
    Preview,
    Shown,
    personalise,
    sample_values,
    shown_build,
)
from newsletter.build.render import environment, render_template
from newsletter.build.report import BuildReport, Held, built_at

__all__ = [
    "WIDTHS",
    "BuildReport",
    "BuildResult",
    "DirectorySource",
    "Held",
    "Inbox",
    "Preview",
    "Shown",
    "build",
    "build_issue",
    "built_at",
    "check_layout",
    "environment",
    "input_digest",
    "personalise",
    "render_template",
    "sample_values",
    "shown_build",
]
