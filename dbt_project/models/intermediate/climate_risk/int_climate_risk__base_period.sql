-- The base period of the climate stress test: the base year is the latest year for which an enterprise has both
-- energy emissions and financials delivered (the emissions are held at this year for 2021-2030, and the balance
-- sheet the carbon cost is charged against is this year's); the loans stressed are the banks' loan-level report of
-- the latest report month of the base year. One row (none while no year has both inputs).

with

emissions as (

    select credit_code, year from {{ ref('stg_enterprise__energy_emissions') }}

),

financials as (

    select credit_code, year from {{ ref('stg_enterprise__financials') }}

),

base_year as (

    select max(emissions.year) as base_year
    from emissions
    inner join financials
        on financials.credit_code = emissions.credit_code
        and financials.year = emissions.year

),

loan_months as (

    select distinct report_month from {{ ref('stg_bank__loans') }}

),

final as (

    select
        cast(base_year.base_year as integer) as base_year,
        max(loan_months.report_month) as loan_report_month,
        -- no loan report in the base year: nothing to stress, and the marts say so
        case when max(loan_months.report_month) is null then 'loans_in_base_year' end as missing_inputs
    from base_year
    left join loan_months
        on extract(year from loan_months.report_month) = base_year.base_year
    where base_year.base_year is not null
    group by base_year.base_year

)

select * from final
