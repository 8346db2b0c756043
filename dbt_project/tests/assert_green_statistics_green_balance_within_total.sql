{{ config(meta={"dagster": {"ref": {"name": "fct_green_loan_statistics_monthly"}}}) }}
{#- Green balance <= total balance per month, bank and district, and the green share (Σ share over the green rows)
    is within [0, 1] up to the 6-place rounding of each row. A row here names the month, bank and district. -#}
select report_month, bank_code, district_code,
       sum(case when is_green then balance_yuan else 0 end) as green_yuan,
       sum(balance_yuan) as total_yuan,
       sum(case when is_green then share_of_bank_district_balance else 0 end) as green_share
from {{ ref('fct_green_loan_statistics_monthly') }}
group by report_month, bank_code, district_code
having sum(case when is_green then balance_yuan else 0 end) > sum(balance_yuan)
    or sum(case when is_green then share_of_bank_district_balance else 0 end) > 1.00001
    or sum(case when is_green then balance_yuan else 0 end) < 0
