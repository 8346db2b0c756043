{{ config(meta={"dagster": {"ref": {"name": "fct_financed_emissions_bank_industry_yearly"}}}) }}
-- The bank-industry financed-emissions mart's outstanding, loan count and financed scope 1 + 2 per bank and year
-- equal the loan mart's, to the fen and to the 0.0001 t. A row here means the aggregation lost or doubled loans.
with bank_industry as (
    select bank_code, year,
           sum(outstanding_yuan) as outstanding_yuan,
           sum(loan_count) as loans,
           sum(coalesce(financed_scope12_tco2e, 0)) as financed_scope12_tco2e
    from {{ ref('fct_financed_emissions_bank_industry_yearly') }}
    group by bank_code, year
),

loans as (
    select bank_code, year,
           sum(outstanding_yuan) as outstanding_yuan,
           count(*) as loans,
           sum(coalesce(financed_scope1_tco2e + financed_scope2_tco2e, 0)) as financed_scope12_tco2e
    from {{ ref('fct_financed_emissions_loan_yearly') }}
    group by bank_code, year
)

select coalesce(bank_industry.bank_code, loans.bank_code) as bank_code,
       coalesce(bank_industry.year, loans.year) as year,
       bank_industry.outstanding_yuan as bank_industry_outstanding_yuan, loans.outstanding_yuan as loan_outstanding_yuan,
       bank_industry.loans as bank_industry_loans, loans.loans as loan_mart_loans,
       bank_industry.financed_scope12_tco2e as bank_industry_financed_tco2e,
       loans.financed_scope12_tco2e as loan_mart_financed_tco2e
from bank_industry
full outer join loans
    on bank_industry.bank_code = loans.bank_code
    and bank_industry.year = loans.year
where coalesce(bank_industry.outstanding_yuan, 0) <> coalesce(loans.outstanding_yuan, 0)
   or coalesce(bank_industry.loans, 0) <> coalesce(loans.loans, 0)
   or coalesce(bank_industry.financed_scope12_tco2e, 0) <> coalesce(loans.financed_scope12_tco2e, 0)
