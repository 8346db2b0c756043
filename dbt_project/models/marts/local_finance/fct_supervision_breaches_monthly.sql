-- Breaches of the regulatory ratios of the local financial organisations: one row per organisation, report month
-- and ratio in breach (breached in fct_local_finance_ratios_monthly), with
--   excess     value ÷ limit − 1 (by how far over the limit, a fraction of it); null when the denominator is not
--              positive (value undefined)
--   severity   minor when excess ≤ minor_max_excess, serious when ≤ serious_max_excess, severe above or when the
--              denominator is not positive; bands from seed supervision_limits [U: no published source]
--   duration   consecutive report months in breach of this ratio up to this month, and the first month of that
--              run (breach_since): a month not in breach, or a month without a row in the ratios mart (no return,
--              or a return with missing inputs), ends the run (a gap is not presumed to be a breach).
-- Kept as a table, not month by month: the duration of a month depends on every earlier month, so the breach
-- history is read from the ratios mart (which is kept month by month) each build; it holds breach rows only.

with

ratios as (

    select * from {{ ref('fct_local_finance_ratios_monthly') }}

),

limits as (

    select org_type, ratio_code, minor_max_excess, serious_max_excess from {{ ref('supervision_limits') }}

),

breaches as (

    select
        ratios.*,
        limits.minor_max_excess,
        limits.serious_max_excess,
        {{ dbt.datediff("cast('2000-01-01' as date)", 'ratios.report_month', 'month') }} as month_index
    from ratios
    inner join limits on limits.org_type = ratios.org_type and limits.ratio_code = ratios.ratio_code
    where ratios.breached

),

runs as (

    -- gaps and islands: consecutive months share month_index − their rank within the organisation and ratio
    select
        breaches.*,
        month_index - row_number() over (
            partition by org_code, ratio_code order by report_month
        ) as run_key
    from breaches

),

with_excess as (

    select
        runs.*,
        case when value is not null then {{ exact_ratio('value - limit_value', 'limit_value', 6) }} end as excess,
        min(report_month) over (partition by org_code, ratio_code, run_key) as breach_since,
        row_number() over (partition by org_code, ratio_code, run_key order by report_month) as months_in_breach
    from runs

),

final as (

    select
        report_month,
        org_code,
        org_name,
        org_type,
        district_code,
        ratio_code,
        ratio_name,
        cast(numerator_yuan as decimal(20, 2)) as numerator_yuan,
        cast(denominator_yuan as decimal(20, 2)) as denominator_yuan,
        cast(value as decimal(18, 6)) as value,
        cast(limit_value as decimal(9, 4)) as limit_value,
        is_raised_limit,
        cast(excess as decimal(18, 6)) as excess,
        case
            when excess is null or excess > serious_max_excess then 'severe'
            when excess > minor_max_excess then 'serious'
            else 'minor'
        end as severity,
        breach_since,
        cast(months_in_breach as integer) as months_in_breach,
        regulation,
        article,
        confidence,
        inputs_loaded_at
    from with_excess

)

select * from final
