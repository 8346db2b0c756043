"""The catalog as a static HTML site a person browses offline (``make catalog-site``).

Everything comes from the ``meta.catalog_*`` tables of one lake snapshot. The pages carry their own CSS and
script and load nothing from the network (a Content-Security-Policy forbids it too), so the site works from
``file://`` on an air-gapped machine. Every value is HTML-escaped: descriptions come from contracts written by
the sources. A build writes into a temporary directory next to the target and swaps it in, so a reader sees
the old site or the new one, never half of one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import os
import re
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from hashlib import sha1
from pathlib import Path
from string import Template
from urllib.parse import quote

import duckdb
import yaml

from pipelines.catalog.collect import read_yaml
from pipelines.lake.connection import current_snapshot

# Layers in the order data flows; a layer the catalog names but this list does not is shown after them.
LAYERS = ("landing", "raw", "quarantine", "staging", "intermediate", "marts", "published", "meta")
TABLES = ("datasets", "columns", "lineage", "glossary", "quality", "violations")
ORDER_BY = {
    "datasets": "dataset", "columns": "dataset, ordinal", "glossary": "concept",
    "lineage": "downstream, downstream_column NULLS FIRST, upstream, upstream_column",
    "quality": "dataset, check_kind, check_name", "violations": "dataset, rule, column_name NULLS FIRST",
}
# Left in every build, so a rebuild only ever replaces a directory that holds a site.
MARKER = ".catalog-site"
SEARCH_LIMIT = 200
EMPTY = '<span class="muted">—</span>'

# Status words of freshness and quality, by the colour of their badge; other words get a neutral badge.
TONES = {
    "good": {"pass", "passed", "ok", "fresh", "success", "healthy"},
    "warn": {"warn", "warning", "late", "partial", "skipped", "overdue"},
    "bad": {"fail", "failed", "error", "stale", "missing"},
}


class CatalogMissing(RuntimeError):
    pass


@dataclass
class Catalog:
    """The catalog tables as rows (dicts), plus what the footer tells."""

    datasets: list[dict]
    columns: list[dict]
    lineage: list[dict]
    glossary: list[dict]
    quality: list[dict]
    violations: list[dict]
    dataset_fields: list[str]
    snapshot: int | None = None
    generated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


# ---------------------------------------------------------------- reading


def _rows(con: duckdb.DuckDBPyConnection, table: str) -> tuple[list[str], list[dict]]:
    try:
        cursor = con.execute(f"SELECT * FROM meta.catalog_{table} ORDER BY {ORDER_BY[table]}")
    except duckdb.CatalogException as exc:
        reason = str(exc).splitlines()[0]
        raise CatalogMissing(f"meta.catalog_{table} is missing: build the catalog first ({reason})") from exc
    names = [d[0] for d in cursor.description]
    return names, [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def lake_snapshot(con: duckdb.DuckDBPyConnection) -> int | None:
    """The lake's latest snapshot, or None when the connection has no DuckLake attached as ``lake``."""
    try:
        return current_snapshot(con)
    except duckdb.Error:
        return None


def read_catalog(con: duckdb.DuckDBPyConnection) -> Catalog:
    """All six tables from one snapshot, though a catalog build may commit while they are read (a caller
    already inside a transaction has pinned one)."""
    try:
        con.execute("BEGIN TRANSACTION")
        own_transaction = True
    except duckdb.TransactionException:
        own_transaction = False
    try:
        fields, datasets = _rows(con, "datasets")
        rest = {table: _rows(con, table)[1] for table in TABLES[1:]}
        return Catalog(datasets=datasets, dataset_fields=fields, snapshot=lake_snapshot(con), **rest)
    finally:
        if own_transaction:
            con.execute("ROLLBACK")


def level_names() -> dict[str, str]:
    """Security levels and their Chinese names from the classification policy, for the legend."""
    try:
        levels = read_yaml("classification_policy.yml")["security_levels"]
        return {level: str(spec.get("name", "")) for level, spec in levels.items()}
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        return {f"L{n}": "" for n in range(1, 6)}


# ---------------------------------------------------------------- names and links


def page_file(dataset: str) -> str:
    """``raw.bank__loans`` → ``raw.bank__loans.html``; other characters become ``_`` plus a hash, so two
    names never share a file."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", dataset).lstrip(".") or "_"
    if safe != dataset:
        safe += "-" + sha1(dataset.encode()).hexdigest()[:8]
    return f"{safe}.html"


def anchor(kind: str, name: str) -> str:
    """An ASCII element id; a link's fragment is the same string, so it matches as written."""
    return f"{kind}-" + quote(name, safe="")


def e(value: object) -> str:
    return html.escape(text(value))


def text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, list | tuple):
        return ", ".join(text(v) for v in value)
    return str(value)


def badge(value: object, title: object = None) -> str:
    if value is None:
        return ""
    word = text(value).strip().lower()
    tone = next((tone for tone, words in TONES.items() if word in words), "neutral")
    hint = f' title="{e(title)}"' if title else ""
    return f'<span class="badge {tone}"{hint}>{e(value)}</span>'


def level_badge(level: object, title: object = None) -> str:
    if level is None:
        return ""
    css = f"level-{level}" if re.fullmatch(r"L[1-5]", str(level)) else "neutral"
    hint = f' title="{e(title)}"' if title else ""
    return f'<span class="badge {css}"{hint}>{e(level)}</span>'


def count(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else e(value)


@dataclass
class Links:
    """Links between pages from ``root`` (``""`` at the top, ``"../"`` in datasets/); a target that is
    not in the catalog is shown as plain text, so no link leads nowhere."""

    datasets: set[str]
    columns: set[tuple[str, str]]
    concepts: set[str]
    root: str = ""

    @property
    def dataset_dir(self) -> str:
        return "datasets/" if self.root == "" else ""  # dataset pages link to each other as neighbours

    def dataset(self, name: str, label: str | None = None) -> str:
        if name not in self.datasets:
            return f'<span class="absent" title="not in the catalog">{e(label or name)}</span>'
        return f'<a href="{self.dataset_dir}{quote(page_file(name))}">{e(label or name)}</a>'

    def column(self, dataset: str, column: str | None) -> str:
        if column is None:
            return self.dataset(dataset)
        label = f"{dataset}.{column}"
        if (dataset, column) not in self.columns:
            return self.dataset(dataset, label)
        href = f"{self.dataset_dir}{quote(page_file(dataset))}#{anchor('col', column)}"
        return f'<a href="{href}">{e(label)}</a>'

    def concept(self, concept: str | None) -> str:
        if concept is None:
            return ""
        if concept not in self.concepts:
            return f'<span class="absent" title="not in the glossary">{e(concept)}</span>'
        return f'<a href="{self.root}glossary.html#{anchor("concept", concept)}">{e(concept)}</a>'

    def datasets_list(self, names: Iterable[str] | None) -> str:
        return ", ".join(self.dataset(name) for name in names or ())


def group_by_dataset(rows: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        grouped[row["dataset"]].append(row)
    return grouped


# ---------------------------------------------------------------- lineage


@dataclass
class Lineage:
    upstream: dict[str, dict[str, str]]  # dataset -> {upstream dataset: via}
    downstream: dict[str, dict[str, str]]
    column_upstream: dict[tuple[str, str], list[dict]]  # (dataset, column) -> edges
    column_downstream: dict[tuple[str, str], list[dict]]


def lineage_of(catalog: Catalog) -> Lineage:
    """Table edges from the datasets' upstream/downstream lists and the lineage table's TABLE rows (the
    lists may name an edge the table has not, or the other way round); column edges from the table."""
    up: dict[str, dict[str, str]] = defaultdict(dict)
    down: dict[str, dict[str, str]] = defaultdict(dict)
    col_up: dict[tuple[str, str], list[dict]] = defaultdict(list)
    col_down: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in catalog.datasets:
        for name in row.get("upstream") or ():
            up[row["dataset"]].setdefault(name, "")
            down[name].setdefault(row["dataset"], "")
        for name in row.get("downstream") or ():
            down[row["dataset"]].setdefault(name, "")
            up[name].setdefault(row["dataset"], "")
    for edge in catalog.lineage:
        if edge["downstream_column"] is None:
            up[edge["downstream"]][edge["upstream"]] = edge["via"]
            down[edge["upstream"]][edge["downstream"]] = edge["via"]
            continue
        col_up[(edge["downstream"], edge["downstream_column"])].append(edge)
        if edge["upstream_column"] is not None:
            col_down[(edge["upstream"], edge["upstream_column"])].append(edge)
    return Lineage(up, down, col_up, col_down)


# ---------------------------------------------------------------- pages

CSS = """
:root { --fg: #1d232a; --muted: #5b6673; --line: #d9dee4; --bg: #f7f9fb; --accent: #1b6b46; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: #fff; line-height: 1.5;
  font-family: system-ui, -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC",
  "Source Han Sans SC", sans-serif; }
header { background: var(--accent); color: #fff; padding: .6rem 1.5rem; }
header a { color: #fff; margin-right: 1.2rem; text-decoration: none; font-weight: 600; }
main { padding: 1rem 1.5rem 2rem; max-width: 110rem; }
footer { border-top: 1px solid var(--line); color: var(--muted); padding: .8rem 1.5rem; font-size: .85rem; }
h1 { font-size: 1.5rem; margin: .4rem 0; word-break: break-all; }
h2 { font-size: 1.2rem; margin-top: 1.8rem; border-bottom: 1px solid var(--line); padding-bottom: .2rem; }
a { color: #0b5cad; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: var(--bg); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
dl.entry { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dl.entry dt { color: var(--muted); } dl.entry dd { margin: 0; word-break: break-word; }
.description { white-space: pre-line; }
.muted, .absent { color: var(--muted); }
.badge { display: inline-block; padding: 0 .45rem; border-radius: .6rem; font-size: .8rem; white-space: nowrap;
  border: 1px solid transparent; }
.good { background: #dff3e6; color: #17613a; } .warn { background: #fff1d1; color: #7a5200; }
.bad { background: #fbe0df; color: #9b1c1c; } .neutral { background: #eceff2; color: #3d4650; }
.level-L1 { background: #e3f4e4; color: #1e6b26; } .level-L2 { background: #e2eefb; color: #174f8c; }
.level-L3 { background: #fff3cd; color: #7a5a00; } .level-L4 { background: #ffe0c7; color: #8a3d00; }
.level-L5 { background: #c62828; color: #fff; }
#search { width: 100%; max-width: 40rem; font-size: 1rem; padding: .45rem .6rem; border: 1px solid #9aa5b1;
  border-radius: .3rem; }
#results { list-style: none; padding: 0; } #results li { padding: .25rem 0; border-bottom: 1px solid var(--line); }
.kind { display: inline-block; min-width: 4.5rem; color: var(--muted); font-size: .8rem; }
.legend span { margin-right: .4rem; }
"""

# Filters the embedded index as one types; every term must occur (Chinese or English, any case or width).
SEARCH_SCRIPT = """
(function () {
  "use strict";
  var index = JSON.parse(document.getElementById("search-index").textContent);
  var box = document.getElementById("search"), results = document.getElementById("results");
  var listing = document.getElementById("listing"), summary = document.getElementById("result-count");
  var LIMIT = __LIMIT__;
  function norm(s) { return String(s || "").normalize("NFKC").toLowerCase(); }
  var haystacks = index.map(function (r) { return norm([r[1], r[2], r[4]].join(" ")); });
  function show() {
    var terms = norm(box.value).split(/\\s+/).filter(Boolean), shown = 0, total = 0;
    results.textContent = "";
    listing.hidden = terms.length > 0;
    if (!terms.length) { summary.textContent = ""; return; }
    haystacks.forEach(function (h, i) {
      if (!terms.every(function (t) { return h.indexOf(t) >= 0; })) { return; }
      total += 1;
      if (shown >= LIMIT) { return; }
      shown += 1;
      var r = index[i], li = document.createElement("li"), kind = document.createElement("span");
      var a = document.createElement("a"), note = document.createElement("span");
      kind.className = "kind"; kind.textContent = r[0];
      a.href = r[3]; a.textContent = r[1];
      note.className = "muted"; note.textContent = r[2] ? " \\u2014 " + r[2] : "";
      li.appendChild(kind); li.appendChild(a); li.appendChild(note); results.appendChild(li);
    });
    summary.textContent = total + (total === 1 ? " match" : " matches") +
      (total > shown ? " (first " + shown + " shown)" : "");
  }
  box.addEventListener("input", show);
  show();
})();
""".replace("__LIMIT__", str(SEARCH_LIMIT))

PAGE = Template("""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; \
script-src 'unsafe-inline'; img-src data:">
<title>$title · Green finance data catalog</title>
<style>$css</style>
</head>
<body>
<header><nav>$nav</nav></header>
<main>
$body
</main>
<footer>$footer</footer>
</body>
</html>
""")


@dataclass
class Site:
    """Renders every page of one catalog."""

    catalog: Catalog
    lineage: Lineage = field(init=False)
    known: Links = field(init=False)
    of_dataset: dict[str, dict[str, list[dict]]] = field(init=False)  # table -> dataset -> its rows

    def __post_init__(self) -> None:
        c = self.catalog
        self.lineage = lineage_of(c)
        self.of_dataset = {table: group_by_dataset(getattr(c, table)) for table in ("columns", "quality", "violations")}
        self.known = Links(
            datasets={d["dataset"] for d in c.datasets},
            columns={(col["dataset"], col["column_name"]) for col in c.columns},
            concepts={g["concept"] for g in c.glossary},
        )

    def links(self, root: str) -> Links:
        return Links(self.known.datasets, self.known.columns, self.known.concepts, root)

    def pages(self) -> dict[str, str]:
        """Relative path → HTML of every page."""
        pages = {"index.html": self.index(), "glossary.html": self.glossary_page()}
        if self.catalog.violations:
            pages["violations.html"] = self.violations_page()
        for row in self.catalog.datasets:
            pages[f"datasets/{page_file(row['dataset'])}"] = self.dataset_page(row)
        return pages

    # -- frame

    def page(self, title: str, body: str, root: str) -> str:
        nav = [f'<a href="{root}index.html">Datasets</a>', f'<a href="{root}glossary.html">Glossary</a>']
        if self.catalog.violations:
            nav.append(f'<a href="{root}violations.html">Violations ({len(self.catalog.violations)})</a>')
        return PAGE.substitute(title=e(title), css=CSS, nav=" ".join(nav), body=body, footer=self.footer())

    def footer(self) -> str:
        c = self.catalog
        built = max((d["built_at"] for d in c.datasets if d.get("built_at")), default=None)
        parts = [f"Generated at {e(c.generated_at.replace(microsecond=0).isoformat(sep=' '))}"]
        parts.append(f"lake snapshot {e(c.snapshot)}" if c.snapshot is not None else "lake snapshot unknown")
        if built is not None:
            parts.append(f"catalog built at {e(built)}")
        return " · ".join(parts)

    # -- index

    def index(self) -> str:
        by_layer: dict[str, list[dict]] = defaultdict(list)
        for row in self.catalog.datasets:
            by_layer[row["layer"]].append(row)
        layers = [layer for layer in LAYERS if layer in by_layer] + sorted(set(by_layer) - set(LAYERS))
        links = self.links("")
        sections = [self.layer_section(layer, by_layer[layer], links) for layer in layers]
        summary = ", ".join(f'<a href="#{anchor("layer", layer)}">{e(layer)}</a> {len(by_layer[layer])}'
                            for layer in layers)
        body = f"""<h1>Green finance data catalog</h1>
<p class="muted">{len(self.catalog.datasets)} datasets: {summary}</p>
<p><input id="search" type="search" autocomplete="off"
  placeholder="Search datasets, columns and concepts / 搜索数据集、字段、术语"></p>
<p id="result-count" class="muted"></p>
<ul id="results"></ul>
<div id="listing">
{self.legend()}
{"".join(sections)}
</div>
<script type="application/json" id="search-index">{self.search_index()}</script>
<script>{SEARCH_SCRIPT}</script>"""
        return self.page("Datasets", body, "")

    def layer_section(self, layer: str, rows: list[dict], links: Links) -> str:
        lines = "".join(
            f"<tr><td>{links.dataset(r['dataset'])}</td><td>{e(r['kind'])}</td>"
            f'<td class="description">{e(r.get("description"))}</td><td>{e(r.get("owner"))}</td>'
            f'<td class="num">{count(r.get("row_count"))}</td>'
            f"<td>{badge(r.get('freshness'), r.get('freshness_detail'))}</td><td>{badge(r.get('quality'))}</td></tr>"
            for r in rows)
        return f"""<h2 id="{anchor('layer', layer)}">{e(layer)} <span class="muted">({len(rows)})</span></h2>
<table><thead><tr><th>Dataset</th><th>Kind</th><th>Description</th><th>Owner</th><th>Rows</th>
<th>Freshness</th><th>Quality</th></tr></thead><tbody>{lines}</tbody></table>"""

    def legend(self) -> str:
        levels = " ".join(level_badge(level, name) + e(name) for level, name in level_names().items())
        return f'<p class="legend muted">Classification (JR/T 0197): {levels}</p>'

    def search_index(self) -> str:
        """[kind, name, summary, url, more searchable text] per dataset, column and concept, as JSON that
        cannot end its <script> element early."""
        entries = [["dataset", d["dataset"], text(d.get("description")), f"datasets/{quote(page_file(d['dataset']))}",
                    text([d.get("layer"), d.get("owner"), d.get("contract")])] for d in self.catalog.datasets]
        entries += [["column", f"{c['dataset']}.{c['column_name']}", text(c.get("description")),
                     f"datasets/{quote(page_file(c['dataset']))}#{anchor('col', c['column_name'])}",
                     text([c.get("data_type"), c.get("classification"), c.get("concept")])]
                    for c in self.catalog.columns if c["dataset"] in self.known.datasets]
        entries += [["concept", f"{g['name_zh']} / {g['name_en']}", text(g.get("definition")),
                     f"glossary.html#{anchor('concept', g['concept'])}", text([g["concept"], g.get("domain")])]
                    for g in self.catalog.glossary]
        data = json.dumps(entries, ensure_ascii=False, separators=(",", ":"))
        return data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")

    # -- dataset

    def dataset_page(self, row: dict) -> str:
        name = row["dataset"]
        links = self.links("../")
        columns, quality, violations = (self.of_dataset[table].get(name, [])
                                        for table in ("columns", "quality", "violations"))
        body = f"""<h1>{e(name)}</h1>
<p>{badge(row.get("layer"))} {badge(row.get("kind"))} {badge(row.get("freshness"), row.get("freshness_detail"))}
{badge(row.get("quality"))}</p>
<p class="description">{e(row.get("description"))}</p>
<h2>Entry</h2>
{self.entry(row, links)}
<h2>Columns <span class="muted">({len(columns)})</span></h2>
{self.columns_table(name, columns, links)}
<h2>Lineage</h2>
{self.table_lineage(name, links)}
<h2>Quality <span class="muted">({len(quality)})</span></h2>
{self.quality_table(quality)}
<h2>Violations <span class="muted">({len(violations)})</span></h2>
{self.violations_table(violations, links, with_dataset=False)}"""
        return self.page(name, body, "../")

    def entry(self, row: dict, links: Links) -> str:
        """Every field of the dataset's row, in the table's order (a field added later shows up too)."""
        special = {
            "upstream": lambda v: links.datasets_list(v),
            "downstream": lambda v: links.datasets_list(v),
            "concepts": lambda v: ", ".join(links.concept(c) for c in v or ()),
            "freshness": lambda v: badge(v),
            "quality": lambda v: badge(v),
            "row_count": count,
            "description": lambda v: f'<span class="description">{e(v)}</span>',
        }
        items = "".join(f"<dt>{e(f.replace('_', ' '))}</dt><dd>{special.get(f, e)(row.get(f)) or EMPTY}</dd>"
                        for f in self.catalog.dataset_fields)
        return f'<dl class="entry">{items}</dl>'

    def columns_table(self, dataset: str, columns: list[dict], links: Links) -> str:
        if not columns:
            return '<p class="muted">No columns recorded.</p>'
        lines = []
        for c in columns:
            key = (dataset, c["column_name"])
            upstream = "<br>".join(
                f"{links.column(edge['upstream'], edge['upstream_column'])} "
                f'<span class="muted">{e(edge["transformation"].lower())}</span>'
                for edge in self.lineage.column_upstream.get(key, ()))
            downstream = "<br>".join(links.column(edge["downstream"], edge["downstream_column"])
                                     for edge in self.lineage.column_downstream.get(key, ()))
            lines.append(
                f'<tr id="{anchor("col", c["column_name"])}"><td class="num">{e(c.get("ordinal"))}</td>'
                f"<td><code>{e(c['column_name'])}</code></td><td>{e(c.get('data_type'))}</td>"
                f"<td>{e(c.get('declared_type'))}</td><td class=\"description\">{e(c.get('description'))}</td>"
                f"<td>{level_badge(c.get('classification'), c.get('classification_source'))}</td>"
                f"<td>{e(c.get('personal_information'))}</td><td>{links.concept(c.get('concept'))}</td>"
                f"<td>{upstream}</td><td>{downstream}</td></tr>")
        return f"""<table><thead><tr><th>#</th><th>Column</th><th>Type</th><th>Declared type</th><th>Description</th>
<th>Classification</th><th>Personal information</th><th>Concept</th><th>From (upstream columns)</th>
<th>Feeds (downstream columns)</th></tr></thead><tbody>{"".join(lines)}</tbody></table>"""

    def table_lineage(self, dataset: str, links: Links) -> str:
        def listing(edges: dict[str, str]) -> str:
            if not edges:
                return '<span class="muted">none</span>'
            return "<ul>" + "".join(
                f"<li>{links.dataset(name)}" + (f' <span class="muted">via {e(via)}</span>' if via else "") + "</li>"
                for name, via in sorted(edges.items())) + "</ul>"

        return (f"<h3>Upstream</h3>{listing(self.lineage.upstream.get(dataset, {}))}"
                f"<h3>Downstream</h3>{listing(self.lineage.downstream.get(dataset, {}))}")

    def quality_table(self, rows: list[dict]) -> str:
        if not rows:
            return '<p class="muted">No quality results.</p>'
        lines = "".join(
            f"<tr><td>{e(q['check_kind'])}</td><td>{e(q['check_name'])}</td><td>{badge(q['status'])}</td>"
            f'<td class="num">{count(q.get("failures"))}</td><td class="description">{e(q.get("details"))}</td>'
            f"<td>{e(q.get('evaluated_at'))}</td></tr>" for q in rows)
        return f"""<table><thead><tr><th>Kind</th><th>Check</th><th>Status</th><th>Failures</th><th>Details</th>
<th>Evaluated at</th></tr></thead><tbody>{lines}</tbody></table>"""

    def violations_table(self, rows: list[dict], links: Links, with_dataset: bool = True) -> str:
        if not rows:
            return '<p class="muted">None.</p>'
        lines = "".join(
            f"<tr><td>{e(v['rule'])}</td><td>{badge(v.get('severity'))}</td>"
            + (f"<td>{links.dataset(v['dataset'])}</td>" if with_dataset else "")
            + f"<td>{links.column(v['dataset'], v['column_name']) if v.get('column_name') else ''}</td>"
            f'<td class="description">{e(v["message"])}</td></tr>' for v in rows)
        head = ("<th>Rule</th><th>Severity</th>" + ("<th>Dataset</th>" if with_dataset else "")
                + "<th>Column</th><th>Message</th>")
        return f"<table><thead><tr>{head}</tr></thead><tbody>{lines}</tbody></table>"

    # -- glossary and violations

    def glossary_page(self) -> str:
        links = self.links("")
        tagged: dict[str, list[dict]] = defaultdict(list)
        for c in self.catalog.columns:
            if c.get("concept"):
                tagged[c["concept"]].append(c)
        sections = []
        for g in self.catalog.glossary:
            authoritative = links.dataset(g["authoritative_dataset"])
            if g.get("authoritative_columns"):
                authoritative += " (" + ", ".join(
                    links.column(g["authoritative_dataset"], col) for col in g["authoritative_columns"]) + ")"
            used = ", ".join(links.column(c["dataset"], c["column_name"]) for c in tagged.get(g["concept"], ()))
            sections.append(f"""<section id="{anchor('concept', g['concept'])}">
<h2>{e(g['name_zh'])} · {e(g['name_en'])} <code class="muted">{e(g['concept'])}</code></h2>
<p class="description">{e(g['definition'])}</p>
<dl class="entry"><dt>domain</dt><dd>{e(g.get('domain'))}</dd>
<dt>authoritative dataset</dt><dd>{authoritative}</dd>
<dt>published by</dt><dd>{links.datasets_list(g.get('published_by'))}</dd>
<dt>not to be taken from</dt><dd>{links.datasets_list(g.get('not_from'))}</dd>
<dt>columns</dt><dd>{used}</dd></dl>
</section>""")
        body = f"<h1>Glossary</h1><p class='muted'>{len(self.catalog.glossary)} concepts</p>" + "".join(sections)
        return self.page("Glossary", body, "")

    def violations_page(self) -> str:
        rows = self.catalog.violations
        body = (f"<h1>Violations</h1><p class='muted'>{len(rows)} rules of the catalog do not hold right now.</p>"
                + self.violations_table(rows, self.links("")))
        return self.page("Violations", body, "")


# ---------------------------------------------------------------- writing


def _check_replaceable(out_dir: Path) -> None:
    """Refuse to replace anything but an earlier site (or an empty directory): a wrong path must not cost
    someone their files."""
    if not out_dir.exists():
        return
    if not out_dir.is_dir() or out_dir.is_symlink():
        raise NotADirectoryError(f"{out_dir} exists and is not a directory of the catalog site")
    if any(out_dir.iterdir()) and not (out_dir / MARKER).exists():
        raise FileExistsError(f"{out_dir} is not empty and holds no catalog site; choose another directory")


def write_atomically(pages: Mapping[str, str], out_dir: Path) -> None:
    """Write into a new directory beside ``out_dir``, then swap it in with two renames."""
    _check_replaceable(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    new = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.new-", dir=out_dir.parent))
    old = new.with_name(new.name.replace(".new-", ".old-", 1))
    try:
        for relative, content in pages.items():
            path = new / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
        (new / MARKER).write_text("written by pipelines.catalog.site; rebuilt as a whole\n", encoding="utf-8")
        for directory in (new, *{(new / p).parent for p in pages}):
            os.chmod(directory, 0o755)  # mkdtemp makes it private; a web server may serve the site
        if out_dir.exists():
            os.rename(out_dir, old)
        try:
            os.rename(new, out_dir)
        except OSError:
            if old.exists():
                os.rename(old, out_dir)
            raise
    finally:
        shutil.rmtree(new, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def build_site(con: duckdb.DuckDBPyConnection, out_dir: Path) -> Path:
    """Render the catalog read through ``con`` into ``out_dir``; returns the path of its index.html."""
    out_dir = Path(out_dir)
    write_atomically(Site(read_catalog(con)).pages(), out_dir)
    return out_dir / "index.html"


def main(argv: list[str] | None = None) -> None:
    from pipelines import settings as settings_module
    from pipelines.lake.connection import reader

    settings = settings_module.load()
    default = settings.root / "lakehouse" / "catalog_site"
    parser = argparse.ArgumentParser(prog="python -m pipelines.catalog.site",
                                     description="Write the data catalog as a static HTML site.")
    parser.add_argument("out_dir", nargs="?", type=Path, default=default, help=f"default: {default}")
    args = parser.parse_args(argv)
    with reader(settings) as con:
        index = build_site(con, args.out_dir)
    print(f"catalog site: {index.resolve().as_uri()}")


if __name__ == "__main__":
    main()
