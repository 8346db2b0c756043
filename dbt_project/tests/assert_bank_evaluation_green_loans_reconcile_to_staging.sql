{{ config(meta={"tested_by_period": {"inputs": [
    ["fct_bank_green_evaluation_quarterly", "quarter_end_month", none],
    ["stg_bank__loans", "report_month", "loaded_at"]]}}) }}
-- The green loans and the total business of the bank evaluation are the loan reports' own figures: for every
-- evaluated bank and quarter, green_loan_yuan = Σ balance of the bank's green loans (stg_bank__loans.is_green)
-- in the quarter-end month, and total_business_yuan − green_bond_yuan = Σ balance of all its loans.
-- Returns the rows that disagree. Reads the loan months reloaded, and the quarters rebuilt, since the test last
-- passed: the evaluation is a table rebuilt whole, so every quarter-end month (a third of the loan history) rather
-- than every loan report (1.1 s of each scale-1 run).
with

loans as (

    select
        report_month,
        bank_code,
        sum(case when is_green then balance_yuan else 0 end) as green_loan_yuan,
        sum(balance_yuan) as total_loan_yuan
    from {{ ref('stg_bank__loans') }}
    where {{ periods_to_test('report_month') }}
    group by report_month, bank_code

)

select evaluation.quarter_end_month, evaluation.bank_code, evaluation.green_loan_yuan,
       loans.green_loan_yuan as staged_green_loan_yuan,
       evaluation.total_business_yuan - evaluation.green_bond_yuan as total_loan_yuan,
       loans.total_loan_yuan as staged_total_loan_yuan
from {{ ref('fct_bank_green_evaluation_quarterly') }} as evaluation
left join loans
    on loans.report_month = evaluation.quarter_end_month
    and loans.bank_code = evaluation.bank_code
where {{ periods_to_test('evaluation.quarter_end_month') }}
    and (loans.bank_code is null
         or evaluation.green_loan_yuan <> loans.green_loan_yuan
         or evaluation.total_business_yuan - evaluation.green_bond_yuan <> loans.total_loan_yuan)
