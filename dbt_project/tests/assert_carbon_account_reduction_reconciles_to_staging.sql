-- The personal carbon account counts every green behaviour record once: per month, the CO2e reduced in
-- fct_personal_carbon_account_monthly adds up to the platforms' carbon_reduction_kg in stg_public__green_behaviours,
-- and the records to the records. A failure lists the months that differ: records lost or doubled between the
-- staging model, int_carbon_account__behaviours_monthly (kept month by month: rebuild a month with
-- --vars '{rebuild_periods: ["<month>"]}') and the mart.
with

staged as (

    select record_month as account_month, count(*) as record_count, sum(carbon_reduction_kg) as co2e_kg
    from {{ ref('stg_public__green_behaviours') }}
    group by record_month

),

accounts as (

    select account_month, sum(record_count) as record_count, sum(co2e_reduced_kg) as co2e_kg
    from {{ ref('fct_personal_carbon_account_monthly') }}
    group by account_month

)

select
    coalesce(staged.account_month, accounts.account_month) as account_month,
    staged.record_count as staged_records,
    accounts.record_count as account_records,
    staged.co2e_kg as staged_co2e_kg,
    accounts.co2e_kg as account_co2e_kg
from staged
full outer join accounts on accounts.account_month = staged.account_month
where staged.record_count is null
    or accounts.record_count is null
    or staged.record_count <> accounts.record_count
    or staged.co2e_kg <> accounts.co2e_kg
