"""The usual alternative: three marts in plain pandas, straight from the delivered files.

What a analyst's script would do with the same landing directory — read every bank's monthly loan CSV (GB18030),
the deposit returns, the enterprises' emissions, financials and listing status (JSON lines) and the published
parameters (the dbt seeds), and compute, mirroring the dbt SQL in simplified but honest form:

- green-loan statistics (fct_green_loan_statistics_monthly, without its green-category split): per report month,
  bank, district, borrower industry section and green flag — loan count, balance, NPL count and balance, loans
  originated in the month and their balance;
- financed emissions (fct_financed_emissions_loan_yearly, PCAF business loans attributed by equity + debt only):
  per year and bank — the loan-year's last outstanding balance ÷ (max(equity, 0) + liabilities), capped at 1, times
  the borrower's reported scope 1 / scope 2 emissions or, without them, revenue × the section's emission factor;
- plan indicators (fct_plan_indicator_progress, the indicators measured from loans and deposits): per report month,
  the lake value of the loan, green loan, manufacturing, medium/long-term, enterprise credit loan and deposit
  balances, green loan share and NPL ratio, in the plan's unit.

No contract validation, no quarantine, no incremental state, no lineage, no tests, no publication: one pass over
the files, month by month (the loan book of the whole history does not fit in memory as pandas objects at scale 1).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

SEEDS = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds"
LOAN_COLUMNS = {
    "报告期": "report_month", "金融机构代码": "bank_code", "贷款编号": "loan_id", "借款人类型": "borrower_type",
    "借款人证件号码": "borrower_id", "行业代码": "industry_code", "区县代码": "district_code", "贷款产品": "product",
    "担保方式": "guarantee_type", "放款日期": "origination_date", "到期日期": "maturity_date",
    "贷款余额(元)": "balance", "五级分类": "five_category", "是否绿色贷款": "is_green",
}
NPL = ("次级", "可疑", "损失")
BUSINESS = ("企业", "个体工商户")


def cents(series: pd.Series) -> pd.Series:
    """Exact money: yuan with two decimals as integer cents (float sums drift on millions of rows)."""
    return (pd.to_numeric(series, errors="coerce") * 100).round().astype("Int64")


def read_loans(files: list[Path]) -> pd.DataFrame:
    frames = [pd.read_csv(f, encoding="gb18030", dtype=str, usecols=list(LOAN_COLUMNS), keep_default_na=False,
                          na_values=[""]) for f in files]
    df = pd.concat(frames, ignore_index=True).rename(columns=LOAN_COLUMNS)
    df["balance_cents"] = cents(df.pop("balance"))
    df["is_green"] = df["is_green"].eq("是")
    return df


def statistics(df: pd.DataFrame) -> pd.DataFrame:
    section = df["industry_code"].str[:1]
    section = section.where(df["industry_code"].notna(),
                            np.where(df["borrower_type"].eq("个人"), "individual", "unknown"))
    npl = df["five_category"].isin(NPL)
    originated = df["origination_date"].str[:7].eq(df["report_month"])
    work = pd.DataFrame({
        "report_month": df["report_month"], "bank_code": df["bank_code"], "district_code": df["district_code"],
        "industry_section_code": section, "is_green": df["is_green"], "loan_count": 1,
        "balance_cents": df["balance_cents"], "npl_loan_count": npl.astype(int),
        "npl_balance_cents": df["balance_cents"].where(npl, 0), "originated_loan_count": originated.astype(int),
        "flow_cents": df["balance_cents"].where(originated, 0)})
    keys = ["report_month", "bank_code", "district_code", "industry_section_code", "is_green"]
    return work.groupby(keys, as_index=False, dropna=False).sum()


def loan_measures(df: pd.DataFrame) -> dict[str, int]:
    b = df["balance_cents"]
    origination = pd.to_datetime(df["origination_date"], errors="coerce")
    maturity = pd.to_datetime(df["maturity_date"], errors="coerce")
    return {
        "loan_balance": int(b.sum()),
        "green_loan_balance": int(b[df["is_green"]].sum()),
        "manufacturing_loan_balance": int(b[df["industry_code"].str.startswith("C", na=False)].sum()),
        "medium_long_term_loan_balance": int(b[maturity > origination + pd.DateOffset(months=12)].sum()),
        "enterprise_credit_loan_balance":
            int(b[df["borrower_type"].eq("企业") & df["guarantee_type"].eq("信用")].sum()),
        "npl_balance": int(b[df["five_category"].isin(NPL)].sum()),
    }


def read_jsonl(paths: list[Path]) -> pd.DataFrame:
    frames = [pd.read_json(p, lines=True, dtype=False) for p in paths if p.stat().st_size]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def financed_emissions(loans: pd.DataFrame, year: int, landing: Path, listed: pd.DataFrame) -> pd.DataFrame:
    """Per bank, business loans attributed by equity + debt (unlisted borrowers), for one year."""
    last = loans.sort_values("report_month").drop_duplicates(["bank_code", "loan_id"], keep="last")
    classes = pd.read_csv(SEEDS / "carbon" / "pcaf_asset_class_of_product.csv", dtype=str)
    last = last.merge(classes[["product", "borrower_type", "asset_class"]], how="left", on=["product", "borrower_type"])
    last = last[last["asset_class"].eq("business_loan")]
    listed_now = set(listed.loc[listed["listing_year"] <= year, "creditCode"])
    last = last[~(last["borrower_type"].eq("企业") & last["borrower_id"].isin(listed_now))]
    last = last[last["borrower_type"].isin(BUSINESS)]
    fin = read_jsonl(sorted((landing / "enterprise_financials" / str(year)).glob("*.jsonl")))
    emi = read_jsonl(sorted((landing / "enterprise_energy_emissions" / str(year)).glob("*.jsonl")))
    if fin.empty:
        return pd.DataFrame()
    fin = fin[["creditCode", "operatingRevenue", "totalLiabilities", "ownersEquity"]].drop_duplicates("creditCode")
    last = last.merge(fin, how="inner", left_on="borrower_id", right_on="creditCode")
    denominator = last["ownersEquity"].clip(lower=0) + last["totalLiabilities"]
    last = last[denominator > 0]
    denominator = denominator[denominator > 0]
    last["attribution_factor"] = (last["balance_cents"].astype(float) / 100 / denominator).clip(upper=1).round(10)
    if not emi.empty:
        emi = emi[["creditCode", "scope1Emissions", "scope2Emissions"]].drop_duplicates("creditCode")
        last = last.merge(emi, how="left", on="creditCode")
    else:
        last["scope1Emissions"] = last["scope2Emissions"] = np.nan
    factors = pd.read_csv(SEEDS / "carbon" / "pcaf_emission_factors.csv", dtype={"industry_section": str})
    last["industry_section"] = last["industry_code"].str[:1]
    last = last.merge(factors[["industry_section", "scope1_tco2e_per_10k_yuan_revenue",
                               "scope2_tco2e_per_10k_yuan_revenue"]], how="left", on="industry_section")
    reported = last["scope1Emissions"].notna()
    for scope in ("1", "2"):
        estimated = (last["operatingRevenue"] * last[f"scope{scope}_tco2e_per_10k_yuan_revenue"] * 0.0001).round(4)
        borrower = last[f"scope{scope}Emissions"].where(reported, estimated)
        last[f"financed_scope{scope}_tco2e"] = (last["attribution_factor"] * borrower).round(4)
    last["year"] = year
    return last.groupby(["year", "bank_code"], as_index=False).agg(
        loan_count=("loan_id", "size"), financed_scope1_tco2e=("financed_scope1_tco2e", "sum"),
        financed_scope2_tco2e=("financed_scope2_tco2e", "sum"))


def plan_indicators(measures: pd.DataFrame) -> pd.DataFrame:
    sources = pd.read_csv(SEEDS / "plan" / "plan_indicator_sources.csv", dtype={"seq": str})
    sources = sources[sources["measure_key"].isin(measures.columns) & sources["cumulation_start"].isna()]
    long = measures.melt(id_vars="report_month", var_name="measure_key", value_name="measure_value")
    out = sources[["plan_period", "seq", "indicator_name", "measure_key", "unit_divisor"]].merge(long, on="measure_key")
    out["lake_value"] = (out["measure_value"] / out["unit_divisor"].fillna(1)).round(4)
    return out.drop(columns="measure_value")


def run(landing: str, out_dir: str) -> dict:
    landing_path, out = Path(landing), Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    listed = read_jsonl(sorted((landing_path / "enterprise_listing_status").glob("*.jsonl")))
    listed = listed[listed["stage"].eq("上市") & listed["listingDate"].notna()].copy()
    listed["listing_year"] = listed["listingDate"].str[:4].astype(int)
    months = sorted(p.name for p in (landing_path / "bank_loans").iterdir() if p.is_dir())
    stats, measures, emissions, year_loans, rows = [], [], [], [], 0
    for i, month in enumerate(months):
        df = read_loans(sorted((landing_path / "bank_loans" / month).glob("*.csv")))
        rows += len(df)
        stats.append(statistics(df))
        m = loan_measures(df)
        deposit_files = sorted((landing_path / "bank_deposits" / month).glob("*.csv"))
        deposits = pd.concat([pd.read_csv(f, encoding="gb18030", dtype=str) for f in deposit_files]) \
            if deposit_files else pd.DataFrame({"存款余额(元)": []})
        rows += len(deposits)
        m["deposit_balance"] = int(cents(deposits["存款余额(元)"]).sum())
        measures.append({"report_month": month, **m})
        year_loans.append(df[["report_month", "bank_code", "loan_id", "borrower_type", "borrower_id", "industry_code",
                              "product", "balance_cents"]])
        if i == len(months) - 1 or months[i + 1][:4] != month[:4]:
            emissions.append(financed_emissions(pd.concat(year_loans, ignore_index=True), int(month[:4]),
                                                landing_path, listed))
            year_loans = []
    m = pd.DataFrame(measures)
    m["green_loan_share_pct"] = (m["green_loan_balance"] * 100 / m["loan_balance"]).round(4)
    m["npl_ratio_pct"] = (m["npl_balance"] * 100 / m["loan_balance"]).round(4)
    for col in ("loan_balance", "green_loan_balance", "manufacturing_loan_balance", "medium_long_term_loan_balance",
                "enterprise_credit_loan_balance", "deposit_balance"):
        m[col] = m[col] / 100  # cents → yuan
    plan = plan_indicators(m.drop(columns="npl_balance"))
    stats_df = pd.concat(stats, ignore_index=True)
    emissions_df = pd.concat([e for e in emissions if not e.empty], ignore_index=True)
    seconds = time.perf_counter() - started
    stats_df.to_parquet(out / "green_loan_statistics.parquet")
    emissions_df.to_parquet(out / "financed_emissions.parquet")
    plan.to_parquet(out / "plan_indicators.parquet")
    return {"seconds": seconds, "rows_read": rows, "months": len(months),
            "rows_out": {"green_loan_statistics": len(stats_df), "financed_emissions": len(emissions_df),
                         "plan_indicators": len(plan)}}
