{{ config(meta={"dagster": {"ref": {"name": "fct_carbon_reduction_facility_quarterly"}},
                "tested_by_period": {"inputs": [
                    ["fct_carbon_reduction_facility_quarterly", "quarter_end_month", none],
                    ["stg_bank__loans", "report_month", "loaded_at"]]}}) }}
-- The facility mart's outstanding total and loan count per bank and quarter equal the carbon-reduction-facility
-- eligible loans of stg_bank__loans at the quarter's last report month, to the fen (every field, unmapped included).
-- A row here means the mart lost, doubled or rounded eligible loans between staging and publication.
with mart as (
    select bank_code, quarter_end_month,
           sum(outstanding_yuan) as outstanding_yuan,
           sum(loan_count) as loans
    from {{ ref('fct_carbon_reduction_facility_quarterly') }}
    where {{ periods_to_test('quarter_end_month') }}
    group by bank_code, quarter_end_month
),

staging as (
    select bank_code,
           report_month as quarter_end_month,
           sum(balance_yuan) as outstanding_yuan,
           count(*) as loans
    from {{ ref('stg_bank__loans') }}
    where is_crf_eligible
      and {{ periods_to_test('report_month') }}
      -- the quarter's last month: March, June, September, December
      and {{ dbt.date_trunc('month', 'report_month') }}
          = {{ dbt.dateadd('month', 2, dbt.date_trunc('quarter', 'report_month')) }}
    group by bank_code, report_month
)

select coalesce(mart.bank_code, staging.bank_code) as bank_code,
       coalesce(mart.quarter_end_month, staging.quarter_end_month) as quarter_end_month,
       mart.outstanding_yuan as mart_outstanding_yuan, staging.outstanding_yuan as staging_outstanding_yuan,
       mart.loans as mart_loans, staging.loans as staging_loans
from mart
full outer join staging
    on mart.bank_code = staging.bank_code
    and mart.quarter_end_month = staging.quarter_end_month
where coalesce(mart.outstanding_yuan, 0) <> coalesce(staging.outstanding_yuan, 0)
   or coalesce(mart.loans, 0) <> coalesce(staging.loans, 0)
