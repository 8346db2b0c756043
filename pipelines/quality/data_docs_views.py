"""Great Expectations' Data Docs views, with their compiled templates kept for the life of the process.

GX makes a new view, and with it a new Jinja environment, for every Data Docs update, so each validation compiled
the same ~50 page templates again (about a second per suite, issue 9). These views keep the first environment of
their class: same loaders, same filters, templates compiled once. Configured in ``expectations._new_context``.
"""

from __future__ import annotations

from typing import ClassVar

from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView


class _CompiledOnce:
    _environments: ClassVar[dict[tuple, object]] = {}

    def __init__(self, custom_styles_directory=None, custom_views_directory=None) -> None:
        super().__init__(custom_styles_directory, custom_views_directory)
        # the environment (and its template cache) of the first view of this class and these directories
        key = (type(self), custom_styles_directory, custom_views_directory)
        self.env = self._environments.setdefault(key, self.env)


class PageView(_CompiledOnce, DefaultJinjaPageView):
    pass


class IndexPageView(_CompiledOnce, DefaultJinjaIndexPageView):
    pass
