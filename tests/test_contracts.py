"""Contracts are valid ODCS, and the checks derived from them catch every kind of bad row."""

import random

import duckdb
import pyarrow as pa
import pytest

from pipelines.contracts import model
from pipelines.contracts.model import CONTRACTS_DIR, all_contracts, validate_document
from pipelines.contracts.rules import MACROS, validation_sql
from pipelines.demo.codes import make_uscc, uscc_is_valid
from pipelines.ingest.readers import read_delivered

BANK_LOANS = all_contracts()["bank_loans"]


@pytest.fixture
def no_known_valid(tmp_path, monkeypatch):
    """Contents validated by earlier processes are not trusted: each test validates for itself."""
    monkeypatch.setattr(model, "VALID_CONTRACTS_DIR", tmp_path / "valid")
    return tmp_path / "valid"


@pytest.mark.parametrize("path", sorted(CONTRACTS_DIR.glob("*.odcs.yaml")), ids=lambda p: p.name)
def test_contract_is_valid_odcs(path, no_known_valid):
    assert validate_document(path) == []


def test_an_invalid_contract_is_reported_with_the_failing_field(tmp_path, no_known_valid):
    broken = tmp_path / "broken.odcs.yaml"
    broken.write_text((CONTRACTS_DIR / "bank_loans.odcs.yaml").read_text().replace(
        "logicalType: integer", "logicalType: int", 1))
    errors = validate_document(broken)
    assert errors and any("logicalType" in e or "properties" in e for e in errors)


def test_valid_contents_are_validated_once_and_an_edit_is_validated_again(tmp_path, no_known_valid, monkeypatch):
    contract = tmp_path / "loans.odcs.yaml"
    text = (CONTRACTS_DIR / "bank_loans.odcs.yaml").read_text()
    contract.write_text(text)
    assert validate_document(contract) == [] and len(list(no_known_valid.iterdir())) == 1
    calls = []
    real = model._validator

    def counting():
        calls.append(1)
        return real()

    monkeypatch.setattr(model, "_validator", counting)
    assert validate_document(contract) == [] and calls == []  # the same contents: known valid
    contract.write_text(text.replace("logicalType: integer", "logicalType: int", 1))
    assert validate_document(contract) and calls == [1]  # edited: validated again, and found invalid
    assert len(list(no_known_valid.iterdir())) == 1  # invalid contents are never remembered


def test_contract_facts_ingestion_relies_on():
    c = BANK_LOANS
    assert c.raw_table == "raw.bank__loans"
    assert c.quarantine_table == "quarantine.bank__loans"
    assert c.partition_column.name == "report_month"
    assert c.primary_key == ["report_month", "bank_code", "loan_id"]
    money = {col.name: col.physical_type for col in c.columns if col.name in ("balance", "project_total_investment")}
    assert money == {"balance": "DECIMAL(18,2)", "project_total_investment": "DECIMAL(18,2)"}


def test_sql_check_character_agrees_with_python():
    rng = random.Random(3)
    con = duckdb.connect()
    for sql in MACROS:
        con.execute(sql)
    codes = [make_uscc(rng, "330502") for _ in range(200)]
    mutated = [c[:17] + ("0" if c[17] != "0" else "1") for c in codes]
    for code in codes + mutated:
        assert con.execute("SELECT uscc_is_valid(?)", [code]).fetchone()[0] == uscc_is_valid(code), code
    # not a code at all: false without the weighted sum; no code: unknown, which a rule lets pass (`required` is
    # the rule for a missing value)
    assert con.execute("SELECT uscc_is_valid('330502********1234'), uscc_is_valid(NULL)").fetchone() == (False, None)


@pytest.fixture(scope="module")
def good_rows(tmp_path_factory):
    from pipelines.demo.bank_loans import generate_bank_loans

    landing = tmp_path_factory.mktemp("landing")
    [path] = generate_bank_loans(landing, ["2020-06"], n_banks=1, loans_per_bank=40, seed=11)
    return read_delivered(path, BANK_LOANS).to_pylist()


def violations(rows):
    con = duckdb.connect()
    for sql in MACROS:
        con.execute(sql)
    table = pa.Table.from_pylist([{**r, "_source_file": "f.csv", "_partition_key": "2020-06"} for r in rows])
    con.register("delivered", table)
    result = con.execute(f"SELECT _source_row, _violations FROM ({validation_sql(BANK_LOANS, 'delivered')})"
                         " ORDER BY _source_row").fetchall()
    return {row: {(v["column"], v["rule"]) for v in found} for row, found in result}


def test_generated_demo_rows_meet_the_contract(good_rows):
    assert all(not found for found in violations(good_rows).values())


def _first(rows, **match):
    return next(r for r in rows if all(r[k] == v for k, v in match.items()))


BAD = [
    ("negative balance", {"贷款余额(元)": "-1.00"}, ("balance", "minimum")),
    ("balance with fractions of a fen", {"贷款余额(元)": "100.005"}, ("balance", "scale:2")),
    ("balance not a number", {"贷款余额(元)": "12,000.00"}, ("balance", "type:DECIMAL(18,2)")),
    ("unknown district", {"区县代码": "330599"}, ("district_code", "validValues")),
    ("date out of range", {"放款日期": "1899-01-01"}, ("origination_date", "minimum")),
    ("impossible date", {"到期日期": "2021-02-30"}, ("maturity_date", "type:DATE")),
    ("missing required value", {"五级分类": ""}, ("five_category", "required")),
    ("value outside its list", {"担保方式": "担保"}, ("guarantee_type", "validValues")),
    ("boolean not 是/否", {"是否首贷": "maybe"}, ("is_first_loan", "type:BOOLEAN")),
    ("bank code pattern", {"金融机构代码": "C10"}, ("bank_code", "pattern")),
    ("row from another month", {"报告期": "2020-05"}, ("report_month", "partition:2020-06")),
    ("maturity before origination", {"放款日期": "2020-06-01", "到期日期": "2020-05-01"},
     (None, "maturity_after_origination")),
    ("overdue but normal", {"逾期天数": "120", "五级分类": "正常"}, (None, "overdue_classification_consistent")),
    ("green without category", {"是否绿色贷款": "是", "绿色贷款用途分类": "", "绿色分类标准版本": ""},
     (None, "green_loan_has_category")),
]


@pytest.mark.parametrize(("case", "change", "expected"), BAD, ids=[b[0] for b in BAD])
def test_each_rule_quarantines_the_row_that_breaks_it(good_rows, case, change, expected):
    rows = [dict(r) for r in good_rows]
    target = _first(rows, 借款人类型="企业", 是否绿色贷款="否")
    target.update(change)
    found = violations(rows)
    assert expected in found[target["_source_row"]], found[target["_source_row"]]
    assert all(not v for row, v in found.items() if row != target["_source_row"])


def test_invalid_credit_code_check_character(good_rows):
    rows = [dict(r) for r in good_rows]
    target = _first(rows, 借款人类型="企业")
    code = target["借款人证件号码"]
    target["借款人证件号码"] = code[:17] + ("0" if code[17] != "0" else "1")
    assert (None, "unified_credit_code_valid") in violations(rows)[target["_source_row"]]


def test_duplicate_key_quarantines_every_copy(good_rows):
    rows = [dict(r) for r in good_rows]
    rows[1]["贷款编号"] = rows[0]["贷款编号"]
    found = violations(rows)
    assert ("report_month, bank_code, loan_id", "primaryKey") in found[rows[0]["_source_row"]]
    assert ("report_month, bank_code, loan_id", "primaryKey") in found[rows[1]["_source_row"]]
