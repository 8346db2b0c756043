-- Raw value of every ESG indicator (seed esg_indicators) for each enterprise and year: the Huzhou ESG evaluation of
-- financing entities (湖州融资主体ESG评价; ../shared/reference/domain-methods.md "Huzhou ESG evaluation" [C] E/S/G,
-- tax and environmental-penalty data; [U] weights and bands). Codes as the evaluation numbers them; one data, one
-- source (pipelines/demo/enterprise_firms.py, glossary esg_indicator_value): E01, E05-E08, S02-S07, G02-G04 as
-- delivered in stg_enterprise__esg_indicators, the others derived here from the dataset that holds the fact:
--   E02 environmental penalty decisions dated in the year       stg_public__environmental_penalties
--   E03 energy (tce) × 10,000 ÷ value added (yuan)             stg_enterprise__energy_emissions, __financials
--   E04 carbon-efficiency grade 1-5 (Zhejiang 碳效码 [S])       fct_carbon_efficiency_yearly
--   E_GREEN_LOAN green ÷ all loan balances over the year, %     stg_bank__loans (lake indicator, PBoC statistics)
--   S01 change of employees on the previous year, %             stg_enterprise__financials
--   G01 tax credit rating of the year (A/B/M/C/D)               stg_public__tax_credit_ratings
--   G05 dishonest-debtor listings in force during the year      stg_public__dishonest_debtors
--   G06 total liabilities ÷ total assets, %                     stg_enterprise__financials
-- Scope: enterprises in the registry, years esg_parameters.first_year..last_year in which any input holds a row
-- for the firm. Every (enterprise, year, indicator of the seed) has a row; raw_value is null where the input has no
-- value, and missing_input then names the input (never a 0 by accident). Public registers (penalties, dishonest
-- debtors) are complete lists: no record there is a value, the seed's absent_record_value (0).
-- Kept year by year (macro incremental_by_period): a year is recomputed when an input of it is delivered (or delivered
-- again): a loan report of one of its months, a financial statement of it or of the year before (S01), its energy
-- data, delivered indicators, tax ratings, penalties or carbon-intensity benchmarks; every year is recomputed when a
-- register every year reads has new rows (the enterprise registry, the dishonest-debtor list, the industry codes).
-- E04 comes from fct_carbon_efficiency_yearly, a table rebuilt whole every run: its inputs are watched here instead
-- (registry, energy, financials, benchmarks, industry codes; its seed, as every seed, asks for a --full-refresh).
-- inputs_loaded_at is the newest load time among the year's inputs and those registers.

{%- set loan_year = "cast(extract(year from report_month) as integer)" %}
{%- set penalty_year = "cast(extract(year from decision_date) as integer)" %}
{{ config(**incremental_by_period('year', inputs=[
    ['stg_enterprise__registries', none, '_loaded_at'],
    ['stg_public__dishonest_debtors', none, '_loaded_at'],
    ['stg_public__industry_codes', none, '_loaded_at'],
    ['stg_enterprise__financials', 'year', '_loaded_at'],
    ['stg_enterprise__financials', 'year + 1', '_loaded_at'],
    ['stg_enterprise__energy_emissions', 'year', '_loaded_at'],
    ['stg_enterprise__esg_indicators', 'year', '_loaded_at'],
    ['stg_public__tax_credit_ratings', 'rating_year', '_loaded_at'],
    ['stg_public__environmental_penalties', penalty_year, '_loaded_at'],
    ['stg_public__carbon_intensity_benchmarks', 'benchmark_year', '_loaded_at'],
    ['stg_bank__loans', loan_year, 'loaded_at']],
    not_watched=['fct_carbon_efficiency_yearly'])) }}

with

indicators as (

    select indicator_code, dimension, input_name, absent_record_value
    from {{ ref('esg_indicators') }}

),

params as (

    select
        max(case when parameter = 'first_year' then cast(value as integer) end) as first_year,
        max(case when parameter = 'last_year' then cast(value as integer) end) as last_year
    from {{ ref('esg_parameters') }}

),

registry as (

    select credit_code, _loaded_at from {{ ref('stg_enterprise__registries') }}

),

-- the years to compute and the years before them (S01)
financials as (

    select credit_code, year, value_added_yuan, employees, total_assets_yuan, total_liabilities_yuan, _loaded_at
    from {{ ref('stg_enterprise__financials') }}
    where {{ periods_to_rebuild('year') }} or {{ periods_to_rebuild('year + 1') }}

),

energy as (

    select credit_code, year, energy_consumption_tce, _loaded_at
    from {{ ref('stg_enterprise__energy_emissions') }}
    where {{ periods_to_rebuild('year') }}

),

delivered as (

    select credit_code, year, indicator_code, value, _loaded_at
    from {{ ref('stg_enterprise__esg_indicators') }}
    where {{ periods_to_rebuild('year') }}

),

carbon_efficiency as (

    select credit_code, year, carbon_efficiency_grade, missing_inputs
    from {{ ref('fct_carbon_efficiency_yearly') }}
    where {{ periods_to_rebuild('year') }}

),

tax_ratings as (

    select credit_code, rating_year as year, credit_rating, score, _loaded_at
    from {{ ref('stg_public__tax_credit_ratings') }}
    where {{ periods_to_rebuild('rating_year') }}

),

penalties as (

    select credit_code, {{ penalty_year }} as year, count(*) as decisions
    from {{ ref('stg_public__environmental_penalties') }}
    where credit_code is not null
        and {{ periods_to_rebuild(penalty_year) }}
    group by credit_code, {{ penalty_year }}

),

-- every listing: one published years ago may still be in force in a year computed now
dishonest as (

    select
        credit_code,
        cast(extract(year from coalesce(publish_date, filing_date)) as integer) as listed_year,
        cast(extract(year from removal_date) as integer) as removed_year
    from {{ ref('stg_public__dishonest_debtors') }}
    where credit_code is not null

),

-- the year's monthly balances of the firm's loans (a balance-weighted green share over the year)
loans as (

    select
        borrower_id as credit_code,
        {{ loan_year }} as year,
        sum(balance_yuan) as balance_yuan,
        sum(case when is_green then balance_yuan else 0 end) as green_balance_yuan
    from {{ ref('stg_bank__loans') }}
    where borrower_type = '企业'
        and {{ periods_to_rebuild(loan_year, year_of='report_month') }}
    group by borrower_id, {{ loan_year }}

),

-- the newest load among each year's inputs (a financial statement also counts for the next year, S01), and among
-- the registers every year reads. Every row that rebuilds a year counts, those the values leave out too (a loan to
-- a person, a penalty without a credit code): one left out would look new to every later run and rebuild its year
-- again, until a newer delivery of anything moved the watermark past it.
year_loads as (

    select year, max(loaded_at) as loaded_at
    from (
        select year, _loaded_at as loaded_at from financials
        union all select year + 1, _loaded_at from financials
        union all select year, _loaded_at from energy
        union all select year, _loaded_at from delivered
        union all select year, _loaded_at from tax_ratings
        union all
        select {{ penalty_year }}, max(_loaded_at) from {{ ref('stg_public__environmental_penalties') }}
        where {{ periods_to_rebuild(penalty_year) }}
        group by {{ penalty_year }}
        union all
        select benchmark_year, _loaded_at from {{ ref('stg_public__carbon_intensity_benchmarks') }}
        where {{ periods_to_rebuild('benchmark_year') }}
        union all
        select {{ loan_year }}, max(loaded_at) from {{ ref('stg_bank__loans') }}
        where {{ periods_to_rebuild(loan_year, year_of='report_month') }}
        group by {{ loan_year }}
    ) as loads
    group by year

),

register_loads as (

    select max(loaded_at) as loaded_at
    from (
        select max(_loaded_at) as loaded_at from registry
        union all select max(_loaded_at) from {{ ref('stg_public__dishonest_debtors') }}
        union all select max(_loaded_at) from {{ ref('stg_public__industry_codes') }}
    ) as loads

),

any_input as (

    select credit_code, year from financials
    union select credit_code, year from energy
    union select credit_code, year from delivered
    union select credit_code, year from carbon_efficiency
    union select credit_code, year from tax_ratings
    union select credit_code, year from penalties
    union select credit_code, listed_year from dishonest
    union select credit_code, year from loans

),

firm_years as (

    select any_input.credit_code, any_input.year
    from any_input
    inner join registry on registry.credit_code = any_input.credit_code
    cross join params
    where any_input.year between params.first_year and params.last_year
        and {{ periods_to_rebuild('any_input.year') }}  -- not the years before, read for S01

),

values_long as (

    select credit_code, year, indicator_code,
        cast(value as decimal(18, 6)) as raw_value,
        cast(null as {{ dbt.type_string() }}) as raw_label,
        case when value is null then 'stg_enterprise__esg_indicators (value empty)' end as missing_input
    from delivered

    union all

    select credit_code, year, 'E02', cast(decisions as decimal(18, 6)), null, null
    from penalties

    union all

    -- E03 = tce × 10,000 ÷ yuan = tce per 10,000 yuan of value added
    select energy.credit_code, energy.year, 'E03',
        case when financials.value_added_yuan > 0 and energy.energy_consumption_tce is not null
            then cast({{ exact_ratio('energy.energy_consumption_tce * 10000', 'financials.value_added_yuan', 6) }}
                      as decimal(18, 6))
        end,
        null,
        case
            when energy.energy_consumption_tce is null then 'stg_enterprise__energy_emissions (energy empty)'
            when financials.credit_code is null or financials.value_added_yuan is null then 'stg_enterprise__financials'
            when financials.value_added_yuan <= 0 then 'stg_enterprise__financials (value added not positive)'
        end
    from energy
    left join financials
        on financials.credit_code = energy.credit_code
        and financials.year = energy.year

    union all

    select credit_code, year, 'E04', cast(carbon_efficiency_grade as decimal(18, 6)), null,
        case when carbon_efficiency_grade is null
            then concat('fct_carbon_efficiency_yearly (', coalesce(missing_inputs, 'not graded'), ')')
        end
    from carbon_efficiency

    union all

    select credit_code, year, 'E_GREEN_LOAN',
        case when balance_yuan > 0
            then cast({{ exact_ratio('green_balance_yuan * 100', 'balance_yuan', 6) }} as decimal(18, 6))
        end,
        null,
        case when not balance_yuan > 0 then 'stg_bank__loans (no balance outstanding)' end
    from loans

    union all

    -- S01: employees against the previous year's, %
    select current_year.credit_code, current_year.year, 'S01',
        case when previous_year.employees > 0 and current_year.employees is not null
            then cast(round(cast(current_year.employees - previous_year.employees as decimal(38, 18)) * 100
                            / previous_year.employees, 6) as decimal(18, 6))
        end,
        null,
        case
            when current_year.employees is null then 'stg_enterprise__financials (employees empty)'
            when previous_year.credit_code is null then 'stg_enterprise__financials (previous year)'
            when previous_year.employees is null or previous_year.employees <= 0
                then 'stg_enterprise__financials (no employees the previous year)'
        end
    from financials as current_year
    left join financials as previous_year
        on previous_year.credit_code = current_year.credit_code
        and previous_year.year = current_year.year - 1

    union all

    select credit_code, year, 'G01', cast(score as decimal(18, 6)), credit_rating,
        case when credit_rating is null then 'stg_public__tax_credit_ratings (rating empty)' end
    from tax_ratings

    union all

    select credit_code, year, 'G06',
        case when total_assets_yuan > 0 and total_liabilities_yuan is not null
            then cast({{ exact_ratio('total_liabilities_yuan * 100', 'total_assets_yuan', 6) }} as decimal(18, 6))
        end,
        null,
        case when not (total_assets_yuan > 0 and total_liabilities_yuan is not null)
            then 'stg_enterprise__financials (assets or liabilities empty or not positive)'
        end
    from financials

),

-- G05: listings in force at any time of the year: published by its end and not removed before its start
dishonest_by_year as (

    select firm_years.credit_code, firm_years.year, 'G05' as indicator_code,
        cast(count(*) as decimal(18, 6)) as raw_value,
        cast(null as {{ dbt.type_string() }}) as raw_label,
        cast(null as {{ dbt.type_string() }}) as missing_input
    from firm_years
    inner join dishonest
        on dishonest.credit_code = firm_years.credit_code
        and dishonest.listed_year <= firm_years.year
        and (dishonest.removed_year is null or dishonest.removed_year >= firm_years.year)
    group by firm_years.credit_code, firm_years.year

),

all_values as (

    select * from values_long
    union all
    select * from dishonest_by_year

),

final as (

    select
        firm_years.credit_code,
        firm_years.year,
        indicators.dimension,
        indicators.indicator_code,
        coalesce(all_values.raw_value, case when all_values.indicator_code is null
                                            then indicators.absent_record_value end) as raw_value,
        all_values.raw_label,
        case
            when all_values.indicator_code is null and indicators.absent_record_value is null
                then indicators.input_name
            else all_values.missing_input
        end as missing_input,
        greatest(year_loads.loaded_at, register_loads.loaded_at) as inputs_loaded_at
    from firm_years
    cross join indicators
    cross join register_loads
    left join year_loads on year_loads.year = firm_years.year
    left join all_values
        on all_values.credit_code = firm_years.credit_code
        and all_values.year = firm_years.year
        and all_values.indicator_code = indicators.indicator_code

)

select * from final
