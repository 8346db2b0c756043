-- A cumulation never falls: each type's cumulative amount, and the plan's total, are at least the previous
-- month's. Returns the months where it falls.
with ordered as (
    select
        report_month, financing_type, cumulative_amount_yuan, direct_financing_cumulative_yuan,
        lag(cumulative_amount_yuan) over (partition by financing_type order by report_month) as previous_cumulative,
        lag(direct_financing_cumulative_yuan) over (partition by financing_type order by report_month)
            as previous_total
    from {{ ref('fct_direct_financing_cumulative_monthly') }}
)
select *
from ordered
where cumulative_amount_yuan < previous_cumulative
    or direct_financing_cumulative_yuan < previous_total
