"""Plotly's own stylesheets as files, so the page needs no inline style.

plotly.js injects its base rules into a ``<style>`` element it creates, which a Content-Security-Policy without
'unsafe-inline' blocks. It skips that when the page already has an element ``#plotly.js-style-global`` with the class
``no-inline-styles`` (the page's ``<link>`` to ``base_stylesheet``). Its bundled map library injects its stylesheet
the same way unless an element with that stylesheet's id exists (the page's ``<link>`` to ``maps_stylesheet``, with
the id ``maps_style_id``). Both are read from the installed plotly.min.js, so they always match the Plotly served.
"""

from __future__ import annotations

import functools
import importlib.resources
import re

PLOTLY_JS = importlib.resources.files("plotly") / "package_data" / "plotly.min.js"

# The literal starts with its first rule; it holds only "selector":"declarations" pairs (Y is a bare key).
FIRST_RULE = '"X,X div":'
STRING = r"""(?:"[^"]*"|'[^']*')"""
PAIR = re.compile(rf"\s*({STRING}|[A-Z])\s*:\s*({STRING})\s*([,}}])")
# What plotly.js substitutes for its placeholders before inserting a rule.
PLACEHOLDERS = {"X": ".js-plotly-plot .plotly", "Y": ".plotly-notifier"}


def rules_from(source: str) -> list[tuple[str, str]]:
    start = source.find("{" + FIRST_RULE)
    if start < 0:
        raise ValueError("plotly.min.js has no base stylesheet literal: the Plotly version changed how it styles")
    rules, pos = [], start + 1
    while True:
        match = PAIR.match(source, pos)
        if match is None:
            raise ValueError(f"unexpected text in Plotly's stylesheet literal at {pos}: {source[pos:pos + 60]!r}")
        key, value, end = match.groups()
        selector = key.strip("\"'")
        for placeholder, replacement in PLACEHOLDERS.items():
            selector = selector.replace(placeholder, replacement)
        rules.append((selector, value[1:-1]))
        pos = match.end()
        if end == "}":
            return rules


# The map library's self-injecting stylesheet: if (!document.getElementById(ID)) {...; e.id = ID, e.textContent = '…'
MAPS_STYLE = re.compile(r"""getElementById\("(?P<id>[0-9a-f]{64})"\)\)\{var (?P<var>\w+)=document\.createElement"""
                        r"""\("style"\);(?P=var)\.id="(?P=id)",(?P=var)\.textContent='(?P<css>[^']*)'""")


@functools.cache
def _source() -> str:
    return PLOTLY_JS.read_text(encoding="utf-8")


@functools.cache
def base_stylesheet() -> str:
    return "".join(f"{selector}{{{declarations}}}\n" for selector, declarations in rules_from(_source()))


@functools.cache
def _maps_style() -> re.Match:
    match = MAPS_STYLE.search(_source())
    if match is None:
        raise ValueError("plotly.min.js has no map stylesheet literal: the Plotly version changed how it styles")
    return match


def maps_style_id() -> str:
    return _maps_style()["id"]


def maps_stylesheet() -> str:
    return _maps_style()["css"]
