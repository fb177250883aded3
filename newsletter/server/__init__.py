"""The whole app of ``newsletter serve``: the unsubscribe pages and the archive
(``returns``), and the directory's pages ("Check your entry", the members'
directory: ``directory.web``), on one shared ``Site``.

It is its own package, above the stages, because ``returns`` may not import
``directory``: each stage brings its own pages, and this one puts them together.
A WSGI server such as waitress or gunicorn calls ``app_from_env()``.
"""

from newsletter.returns import log_requests, mask_tokens
from newsletter.server.app import app_from_env, create_app

__all__ = ["app_from_env", "create_app", "log_requests", "mask_tokens"]
