"""The static catalog site: built from a small catalog in a real lake, read back with an HTML parser."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from pipelines import settings as settings_module
from pipelines.catalog.site import MARKER, Site, build_site, page_file, read_catalog, write_atomically
from pipelines.catalog.tables import TABLES
from pipelines.lake.connection import current_snapshot, ensure_schemas, reader, writer
from pipelines.settings import Settings

BUILT = dt.datetime(2025, 6, 30, 8, 0, tzinfo=dt.UTC)
SCRIPT = '<script>alert("catalog")</script>'
LANDING, RAW, STAGING = "landing.bank_loans", "raw.bank__loans", "staging.stg_bank__loans"
MART = "marts.fct_green_loan_balance_monthly"

DATASET_FIELDS = ("dataset", "layer", "kind", "description", "owner", "contract", "upstream", "downstream",
                  "row_count", "freshness", "quality", "concepts")
DATASETS = [
    (LANDING, "landing", "files", "银行报送的贷款明细文件", "金融数据组", "bank_loans", [], [RAW],
     None, None, None, []),
    (RAW, "raw", "table", "贷款明细（原样入湖）", "金融数据组", "bank_loans", [LANDING], [STAGING],
     120, "fresh", "pass", []),
    (STAGING, "staging", "view", f"Loans renamed and typed {SCRIPT}", "数据平台组", "bank_loans", [RAW], [MART],
     120, "fresh", "pass", []),
    # The mart also reads a seed that is not in the catalog: shown as text, never as a broken link.
    (MART, "marts", "table", "绿色贷款余额月度统计", "数据平台组", None, [STAGING, "seeds.green_categories"], [],
     12, "stale", "fail", ["green_loan_balance"]),
]
COLUMNS = [
    (LANDING, "贷款编号", 1, "VARCHAR", "string", "贷款唯一编号", "L3", "C2", None),
    (LANDING, "贷款余额", 2, "VARCHAR", "string", "贷款余额（元）", "L3", "C2", None),
    (RAW, "loan_id", 1, "VARCHAR", "string", "贷款编号", "L3", "C2", None),
    (RAW, "balance", 2, "DECIMAL(18,2)", "number", "贷款余额", "L3", "C2", None),
    (STAGING, "loan_id", 1, "VARCHAR", "string", "贷款编号", "L3", "C2", None),
    (STAGING, "balance_cny", 2, "DECIMAL(18,2)", "number", "余额（人民币元）", "L3", "C2", None),
    (MART, "month", 1, "DATE", None, "统计月份", "L1", None, None),
    (MART, "green_balance_cny", 2, "DECIMAL(20,2)", None, "绿色贷款余额", "L2", None, "green_loan_balance"),
]
LINEAGE = [
    (RAW, None, LANDING, None, "TABLE", "ingest"),
    (STAGING, None, RAW, None, "TABLE", "dbt"),
    (MART, None, STAGING, None, "TABLE", "dbt"),
    (RAW, "loan_id", LANDING, "贷款编号", "IDENTITY", "contract"),
    (RAW, "balance", LANDING, "贷款余额", "TRANSFORMATION", "contract"),
    (STAGING, "balance_cny", RAW, "balance", "IDENTITY", "dbt"),
    (MART, "green_balance_cny", STAGING, "balance_cny", "AGGREGATION", "dbt"),
    (MART, "month", STAGING, None, "INDIRECT", "dbt"),
]
GLOSSARY = [("green_loan_balance", "绿色贷款余额", "Green loan balance", "符合绿色贷款专项统计制度的贷款余额。",
             "credit", MART, ["green_balance_cny"], ["published.fct_green_loan_balance_monthly"], [RAW])]
QUALITY = [(MART, "dbt_test", "assert_green_le_total", "fail", 3, "3 个月份绿色贷款大于全部贷款"),
           (STAGING, "dbt_test", "not_null_loan_id", "pass", 0, None)]
VIOLATIONS = [("column_classified", "error", STAGING, "balance_cny", "列未分级 <b>unclassified</b>")]


def create_catalog(settings) -> None:
    with writer(settings) as con:
        ensure_schemas(con)
        for name, columns in TABLES.items():
            con.execute(f"CREATE OR REPLACE TABLE meta.{name} ({columns})")
        fields = ", ".join(DATASET_FIELDS)
        con.executemany(f"INSERT INTO meta.catalog_datasets ({fields}, fqn, built_at) "
                        f"VALUES ({', '.join('?' * (len(DATASET_FIELDS) + 2))})",
                        [[*row, f"lake.{row[0]}", BUILT] for row in DATASETS])
        con.executemany("INSERT INTO meta.catalog_columns (dataset, column_name, ordinal, data_type, declared_type, "
                        "description, classification, personal_information, concept) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", COLUMNS)
        con.executemany("INSERT INTO meta.catalog_lineage (downstream, downstream_column, upstream, upstream_column, "
                        "transformation, via) VALUES (?, ?, ?, ?, ?, ?)", LINEAGE)
        con.executemany("INSERT INTO meta.catalog_glossary (concept, name_zh, name_en, definition, domain, "
                        "authoritative_dataset, authoritative_columns, published_by, not_from) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", GLOSSARY)
        con.executemany("INSERT INTO meta.catalog_quality (dataset, check_kind, check_name, status, failures, details, "
                        "evaluated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [[*row, BUILT] for row in QUALITY])
        con.executemany("INSERT INTO meta.catalog_violations (rule, severity, dataset, column_name, message) "
                        "VALUES (?, ?, ?, ?, ?)", VIOLATIONS)


class Page(HTMLParser):
    """What the checks need from one page: links, sources, element ids, scripts and the visible text."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []  # (href, link text)
        self.urls: list[str] = []  # every href and src
        self.ids: set[str] = set()
        self.scripts: list[tuple[dict, str]] = []
        self.text: list[str] = []
        self._a: str | None = None
        self._script: dict | None = None
        self.feed(source)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.urls += [attrs[k] for k in ("href", "src") if attrs.get(k) is not None]
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and "href" in attrs:
            self._a = attrs["href"]
            self.links.append((self._a, ""))
        if tag == "script":
            self._script = attrs
            self.scripts.append((attrs, ""))

    def handle_endtag(self, tag):
        if tag == "a":
            self._a = None
        if tag == "script":
            self._script = None

    def handle_data(self, data):
        if self._script is not None:
            self.scripts[-1] = (self._script, self.scripts[-1][1] + data)
            return
        self.text.append(data)
        if self._a is not None:
            self.links[-1] = (self._a, self.links[-1][1] + data)

    @property
    def visible(self) -> str:
        return "".join(self.text)


def read_site(out: Path) -> dict[Path, Page]:
    return {path: Page(path.read_text(encoding="utf-8")) for path in sorted(out.rglob("*.html"))}


@pytest.fixture(scope="module")
def catalog_lake(tmp_path_factory) -> Settings:
    """A real lake holding the small catalog, made once for the module: opening a lake costs seconds, and the
    tests only read it. Its own directory, so the module touches no other test's lake."""
    root = tmp_path_factory.mktemp("catalog_lake")
    settings = replace(settings_module.load(), root=root, catalog=f"sqlite:{root / 'catalog.sqlite'}",
                       data_path=f"{root / 'data'}/", landing=root / "landing", lock_file=root / "writer.lock")
    create_catalog(settings)
    return settings


@pytest.fixture(scope="module")
def con(catalog_lake):
    with reader(catalog_lake) as con:
        yield con


@pytest.fixture(scope="module")
def site(con, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("built") / "site"
    assert build_site(con, out) == out / "index.html"
    return out


def dataset_page(site: Path, dataset: str) -> Page:
    return Page((site / "datasets" / page_file(dataset)).read_text(encoding="utf-8"))


def test_every_page_is_written_and_every_link_stays_on_the_machine_and_resolves(site):
    pages = read_site(site)
    expected = {"index.html", "glossary.html", "violations.html", *(f"datasets/{page_file(d[0])}" for d in DATASETS)}
    assert {p.relative_to(site).as_posix() for p in pages} == expected
    checked = 0
    for path, page in pages.items():
        assert "http://" not in path.read_text(encoding="utf-8") and "https://" not in path.read_text(encoding="utf-8")
        for url in page.urls:
            parts = urlsplit(url)
            assert not parts.scheme and not parts.netloc, f"{path.name}: {url} leaves the site"
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            assert target.is_file() and site.resolve() in target.parents, f"{path.name}: {url} goes nowhere"
            if parts.fragment:
                assert parts.fragment in pages[target].ids, f"{path.name}: no #{parts.fragment} in {target.name}"
            checked += 1
    assert checked > 50
    # A seed outside the catalog and a published dataset not yet built are named, not linked.
    assert "seeds.green_categories" in dataset_page(site, MART).visible
    assert "published.fct_green_loan_balance_monthly" in pages[site / "glossary.html"].visible


def test_contract_text_is_escaped_and_chinese_text_is_kept(site):
    for path in site.rglob("*.html"):
        source = path.read_text(encoding="utf-8")
        assert SCRIPT not in source and "<b>unclassified" not in source, path.name
    staging = dataset_page(site, STAGING)
    assert SCRIPT in staging.visible  # shown to the reader as text
    assert staging.scripts == []
    assert "列未分级 <b>unclassified</b>" in staging.visible  # the violation concerning it
    index = Page((site / "index.html").read_text(encoding="utf-8"))
    assert [attrs.get("type") for attrs, _ in index.scripts] == ["application/json", None]
    assert "银行报送的贷款明细文件" in index.visible and "金融数据组" in index.visible
    glossary = Page((site / "glossary.html").read_text(encoding="utf-8"))
    assert "绿色贷款余额" in glossary.visible and "符合绿色贷款专项统计制度的贷款余额。" in glossary.visible


def test_mart_column_lineage_links_to_the_staging_column(site):
    mart = dataset_page(site, MART)
    links = dict((label, href) for href, label in mart.links)
    href = links[f"{STAGING}.balance_cny"]
    assert href == f"{page_file(STAGING)}#col-balance_cny"
    assert urlsplit(href).fragment in dataset_page(site, STAGING).ids
    assert links[STAGING] == page_file(STAGING)  # the whole-table edge of the INDIRECT column too
    staging = dataset_page(site, STAGING)
    staging_links = {label: href for href, label in staging.links}
    assert staging_links[f"{RAW}.balance"].startswith(page_file(RAW) + "#")  # upstream
    assert staging_links[f"{MART}.green_balance_cny"].startswith(page_file(MART) + "#")  # downstream
    raw = dataset_page(site, RAW)
    assert {label for _, label in raw.links} >= {f"{LANDING}.贷款编号", LANDING, STAGING}


def test_entry_shows_quality_failures_freshness_and_classification(site):
    source = (site / "datasets" / page_file(MART)).read_text(encoding="utf-8")
    mart = Page(source)
    assert "assert_green_le_total" in mart.visible and "3 个月份绿色贷款大于全部贷款" in mart.visible
    assert '<span class="badge bad">fail</span>' in source and '<span class="badge bad">stale</span>' in source
    assert '<span class="badge level-L2">L2</span>' in source
    assert "12" in mart.visible and "数据平台组" in mart.visible


def test_search_index_covers_datasets_columns_and_concepts(site):
    index = Page((site / "index.html").read_text(encoding="utf-8"))
    (_, data), = [(a, s) for a, s in index.scripts if a.get("id") == "search-index"]
    assert "<" not in data
    entries = json.loads(data)
    names = {(kind, name) for kind, name, *_ in entries}
    assert ("dataset", MART) in names and ("column", f"{LANDING}.贷款编号") in names
    assert ("concept", "绿色贷款余额 / Green loan balance") in names
    assert any(SCRIPT in summary for _, _, summary, *_ in entries)  # searchable, and decoded as plain text
    for _, _, _, url, _ in entries:
        parts = urlsplit(url)
        assert (site / unquote(parts.path)).is_file(), url


def test_footer_names_the_lake_snapshot(site, con):
    footer = Page((site / "glossary.html").read_text(encoding="utf-8")).visible
    assert f"lake snapshot {current_snapshot(con)}" in footer and "Generated at" in footer


def test_rebuild_replaces_the_whole_site(con, tmp_path):
    out = tmp_path / "site"
    build_site(con, out)
    assert (out / "violations.html").exists() and (out / MARKER).exists()
    (out / "datasets" / "left-over.html").write_text("old", encoding="utf-8")
    healthy = read_catalog(con)
    healthy.violations = []
    write_atomically(Site(healthy).pages(), out)
    assert not (out / "datasets" / "left-over.html").exists()
    assert not (out / "violations.html").exists()
    assert "violations.html" not in (out / "index.html").read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["site"]  # no temporary directory left behind


def test_a_failed_build_leaves_the_old_site_and_no_debris(tmp_path):
    out = tmp_path / "site"
    write_atomically({"index.html": "first"}, out)
    with pytest.raises(OSError):
        write_atomically({"index.html": "second", "index.html/x.html": "cannot be written"}, out)
    assert (out / "index.html").read_text(encoding="utf-8") == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["site"]


def test_refuses_to_replace_a_directory_that_is_not_a_site(tmp_path):
    precious = tmp_path / "notes"
    precious.mkdir()
    (precious / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(FileExistsError):
        write_atomically({"index.html": "site"}, precious)
    assert [p.name for p in precious.iterdir()] == ["keep.txt"]


@pytest.mark.parametrize(("dataset", "expected"), [
    ("raw.bank__loans", "raw.bank__loans.html"),
    ("marts.fct_green_loan_balance_monthly", "marts.fct_green_loan_balance_monthly.html"),
])
def test_page_file_keeps_plain_dataset_names(dataset, expected):
    assert page_file(dataset) == expected


def test_page_file_makes_other_names_safe_and_distinct():
    odd = ["../etc/passwd", "landing.贷款", "landing.贷/款", "a b"]
    files = [page_file(name) for name in odd]
    assert len(set(files)) == len(files)
    assert all("/" not in f and not f.startswith(".") and f.isascii() and " " not in f for f in files)
