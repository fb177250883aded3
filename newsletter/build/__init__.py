"""An issue into ``build/``: Jinja, MJML, the text part, the web page, the audit report,
the live preview and the browser checks."""

from newsletter.build.browser import check_layout
from newsletter.build.pipeline import BuildResult, DirectorySource, build, input_digest
from newsletter.build.preview import Preview
from newsletter.build.render import environment, render_template
from newsletter.build.report import BuildReport, Held, built_at

__all__ = [
    "BuildReport",
    "BuildResult",
    "DirectorySource",
    "Held",
    "Preview",
    "build",
    "built_at",
    "check_layout",
    "environment",
    "input_digest",
    "render_template",
]
