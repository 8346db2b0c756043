"""``lakehouse catalog``: build, search and read the data catalog from a terminal.

    lakehouse catalog build                      rebuild meta.catalog_* from the project and the lake (writer)
    lakehouse catalog search TERM…               datasets, columns and glossary concepts (Chinese or English)
    lakehouse catalog show DATASET               the whole entry: columns, lineage, quality, violations
    lakehouse catalog lineage DATASET.COLUMN     upstream to the delivered files' columns (--downstream: the other way)
    lakehouse catalog site [--out DIR]           the static HTML catalog, browsable offline
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipelines import settings as settings_module
from pipelines.cli_output import jsonable, render_table
from pipelines.lake.connection import reader

FORMATS = ("table", "json")


class CatalogCliError(Exception):
    pass


def _require_catalog(con) -> None:
    from pipelines.catalog.query import catalog_built

    if not catalog_built(con):
        raise CatalogCliError("the catalog has not been built yet: run the pipeline (make run) or "
                              "`lakehouse catalog build`")


def cmd_build(args: argparse.Namespace) -> int:
    from pipelines.catalog.build import build

    catalog = build(settings_module.load(), log=lambda m: print(m, file=sys.stderr))
    errors = catalog.errors
    warned = len(catalog.violations) - len(errors)
    print(f"catalog: {len(catalog.datasets)} datasets, {sum(len(d.columns) for d in catalog.datasets.values())} "
          f"columns, {len(set(catalog.edges))} lineage edges, {len(catalog.concepts)} concepts; "
          f"{len(errors)} errors, {warned} warnings")
    for violation in catalog.violations:
        print(f"  {violation.severity}: {violation}")
    return 1 if errors else 0


def cmd_search(args: argparse.Namespace) -> int:
    from pipelines.catalog.query import search

    with reader(settings_module.load()) as con:
        _require_catalog(con)
        hits = search(con, " ".join(args.term))
    if args.format == "json":
        print(json.dumps([dict(zip(("kind", "name", "detail"), h, strict=True)) for h in hits], ensure_ascii=False,
                         indent=2))
    elif hits:
        print(render_table(("kind", "name", "detail"), [(k, n, (d or "")[:100]) for k, n, d in hits]))
    else:
        print(f"nothing in the catalog matches {' '.join(args.term)!r}", file=sys.stderr)
    return 0 if hits else 1


def cmd_show(args: argparse.Namespace) -> int:
    from pipelines.catalog.query import NotInCatalog, show

    with reader(settings_module.load()) as con:
        _require_catalog(con)
        try:
            entry = show(con, args.dataset)
        except NotInCatalog as exc:
            raise CatalogCliError(str(exc)) from None
    if args.format == "json":
        doc = {**entry.fields,
               "columns": [dict(zip(entry.column_names, c, strict=True)) | {"upstream": entry.upstream_columns.get(
                   c[0], [])} for c in entry.columns],
               "quality": [dict(zip(("check_kind", "check_name", "status", "failures", "evaluated_at"), q,
                                    strict=True)) for q in entry.quality],
               "violations": [dict(zip(("severity", "rule", "column", "message"), v, strict=True))
                              for v in entry.violations],
               "authoritative_for": [dict(zip(("concept", "name_zh", "name_en", "definition"), g, strict=True))
                                     for g in entry.glossary]}
        print(json.dumps(jsonable(doc), ensure_ascii=False, indent=2))
        return 0
    f = entry.fields
    print(f"{f['dataset']}  ({f['layer']} {f['kind']}, {f['fqn']})")
    print(f"  {f['description'] or '(no description)'}")
    for label in ("owner", "domain", "location", "format", "source_system", "contract", "contract_version",
                  "dagster_asset", "row_count", "snapshot_id", "snapshot_time", "sla", "last_loaded_at",
                  "freshness", "freshness_detail", "quality", "built_at"):
        if f.get(label) is not None:
            print(f"  {label:<17} {f[label]}")
    for label in ("upstream", "downstream", "concepts"):
        if f.get(label):
            print(f"  {label:<17} {', '.join(f[label])}")
    print("\nColumns")
    rows = [(c[0], c[1] or "", c[2] or "", c[3] or "", c[4] or "", c[5] or "",
             "; ".join(entry.upstream_columns.get(c[0], [])), (c[6] or "")[:60]) for c in entry.columns]
    print(render_table(("column", "type", "declared", "level", "PI", "concept", "from", "description"), rows))
    if entry.glossary:
        print("\nAuthoritative for")
        print(render_table(("concept", "中文", "English", "definition"),
                           [(g[0], g[1], g[2], g[3][:80]) for g in entry.glossary]))
    if entry.quality:
        print("\nQuality")
        print(render_table(("kind", "check", "status", "failures", "evaluated_at"), entry.quality))
    if entry.violations:
        print("\nViolations")
        print(render_table(("severity", "rule", "column", "message"), entry.violations))
    return 0


def cmd_lineage(args: argparse.Namespace) -> int:
    from pipelines.catalog.query import NotInCatalog, lineage

    with reader(settings_module.load()) as con:
        _require_catalog(con)
        try:
            tree = lineage(con, args.column, downstream=args.downstream, max_depth=args.depth)
        except NotInCatalog as exc:
            raise CatalogCliError(str(exc)) from None
    if args.format == "json":
        print(json.dumps([dict(zip(("depth", "dataset", "column", "transformation"), t, strict=True)) for t in tree],
                         ensure_ascii=False, indent=2))
        return 0
    arrow = "→" if args.downstream else "←"
    for depth, dataset, column, transformation in tree:
        how = f"  {arrow} {transformation.lower()}" if transformation else ""
        print(f"{'   ' * depth}{dataset}.{column}{how}")
    return 0


def cmd_site(args: argparse.Namespace) -> int:
    from pipelines.catalog.site import build_site

    settings = settings_module.load()
    out = Path(args.out) if args.out else settings.root / "lakehouse" / "catalog_site"
    with reader(settings) as con:
        _require_catalog(con)
        index = build_site(con, out)
    print(f"catalog site: {index.resolve().as_uri()}")
    return 0


COMMANDS = {"build": cmd_build, "search": cmd_search, "show": cmd_show, "lineage": cmd_lineage, "site": cmd_site}


def add_parser(sub) -> None:
    catalog = sub.add_parser("catalog", help="the data catalog: build, search, show, lineage, site")
    commands = catalog.add_subparsers(dest="catalog_command", required=True, metavar="SUBCOMMAND")
    commands.add_parser("build", help="rebuild the catalog from the contracts, dbt, the asset graph and the lake")
    search = commands.add_parser("search", help="datasets, columns and concepts matching every word")
    search.add_argument("term", nargs="+")
    search.add_argument("--format", choices=FORMATS, default="table")
    show = commands.add_parser("show", help="one dataset's whole entry")
    show.add_argument("dataset", help="<schema>.<table>, e.g. marts.fct_green_loan_balance_monthly")
    show.add_argument("--format", choices=FORMATS, default="table")
    lineage = commands.add_parser("lineage", help="a column's lineage, upstream to the delivered files")
    lineage.add_argument("column", help="DATASET.COLUMN, e.g. marts.fct_green_loan_balance_monthly.green_share")
    lineage.add_argument("--downstream", action="store_true", help="what is computed from the column instead")
    lineage.add_argument("--depth", type=int, default=20, help="at most this many steps (default 20)")
    lineage.add_argument("--format", choices=FORMATS, default="table")
    site = commands.add_parser("site", help="write the static HTML catalog")
    site.add_argument("--out", help="directory (default <root>/lakehouse/catalog_site)")


def cmd_catalog(args: argparse.Namespace) -> int:
    return COMMANDS[args.catalog_command](args)
