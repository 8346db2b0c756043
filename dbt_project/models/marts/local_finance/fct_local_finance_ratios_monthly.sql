-- Regulatory ratios of the local financial organisations, off-site supervision (地方金融组织非现场监管, 浙江省地方金融条例
-- art. 15): one row per organisation, report month and ratio of its type, each against its limit from seed
-- supervision_limits (regulation, article and confidence there; ../shared/reference/domain-methods.md "Local
-- financial organisations"):
--   融资担保公司  guarantee_leverage             guarantee balance ÷ net assets ≤ 10 (15 when mainly small/micro and
--                                                 agriculture)                         Decree 683 art. 15 [C]
--                 single_client_concentration    largest client ÷ net assets ≤ 10%    Decree 683 art. 16 [C]
--                 group_concentration            largest group ÷ net assets ≤ 15%     Decree 683 art. 16 [C]
--   小额贷款公司  single_client / group           ÷ prior year-end net assets ≤ 10% / 15%
--                 nonstandard_borrowing          (bank + other non-standard) ÷ net assets ≤ 1
--                 bond_abs_financing             bonds and ABS ÷ net assets ≤ 4       2025 interim rules [S]
--   典当行        single_client / property_rights_pawn / real_estate_pawn ÷ registered capital ≤ 25% / 50% / 100%
--                                                                                      典当管理办法 art. 38 [S]
--   民间融资服务中心: no ratio applies (no limit in the sources; see the seed), so no row.
-- Numerators that the contract-level exposures can give (business balance, largest client, largest group, pawn
-- balances by kind) are the lake's, from int_local_finance__exposure_totals; the return's own figure is beside it
-- (reported_*, and the difference self-reported − lake). Borrowings are in the return only. Denominators are the
-- return's. value = numerator ÷ denominator, 6 places half up; breached = value > limit_value.
-- Gaps: a return with a positive business balance but no exposures for the month gets missing_inputs
-- 'exposures' on the exposure-based ratios, value and breached null (never 0). A non-positive denominator
-- (insolvent) leaves value null and breached = numerator > 0 (any exposure is over any multiple of it).

{%- set watched = [['stg_local_finance__returns', 'report_month', '_loaded_at'],
                   ['stg_local_finance__exposures', 'report_month', '_loaded_at']] %}
{{ config(**incremental_by_period('report_month', inputs=watched,
    not_watched=['int_local_finance__exposure_totals', 'stg_local_finance__registries'])) }}

with

returns as (

    select * from {{ ref('stg_local_finance__returns') }}
    where {{ periods_to_rebuild('report_month') }}

),

exposure_totals as (

    select * from {{ ref('int_local_finance__exposure_totals') }}
    where {{ periods_to_rebuild('report_month') }}

),

limits as (

    select * from {{ ref('supervision_limits') }}

),

registries as (

    select org_code, district_code from {{ ref('stg_local_finance__registries') }}

),

joined as (

    select
        returns.report_month,
        returns.org_code,
        returns.org_name,
        returns.org_type,
        limits.ratio_code,
        limits.ratio_name,
        limits.numerator,
        limits.denominator,
        limits.limit_value as base_limit_value,
        limits.raised_limit_value,
        limits.raised_limit_min_balance_share,
        limits.raised_limit_min_client_share,
        limits.regulation,
        limits.article,
        limits.confidence,
        limits.numerator in ('business_balance', 'largest_client_balance', 'largest_group_balance',
                             'property_rights_pawn_balance', 'real_estate_pawn_balance') as is_from_exposures,
        (exposure_totals.org_code is null and returns.business_balance_yuan > 0) as is_exposures_missing,
        case limits.numerator
            when 'business_balance' then returns.business_balance_yuan
            when 'largest_client_balance' then returns.largest_client_balance_yuan
            when 'largest_group_balance' then returns.largest_group_balance_yuan
            when 'property_rights_pawn_balance' then returns.property_rights_pawn_balance_yuan
            when 'real_estate_pawn_balance' then returns.real_estate_pawn_balance_yuan
            when 'nonstandard_borrowing' then returns.bank_borrowing_yuan + returns.other_nonstandard_borrowing_yuan
            when 'bond_abs_financing' then returns.bond_abs_financing_yuan
        end as reported_numerator_yuan,
        case limits.numerator
            when 'business_balance' then exposure_totals.business_balance_yuan
            when 'largest_client_balance' then exposure_totals.largest_client_balance_yuan
            when 'largest_group_balance' then exposure_totals.largest_group_balance_yuan
            when 'property_rights_pawn_balance' then exposure_totals.property_rights_pawn_balance_yuan
            when 'real_estate_pawn_balance' then exposure_totals.real_estate_pawn_balance_yuan
        end as exposures_numerator_yuan,
        case limits.denominator
            when 'net_assets' then returns.net_assets_yuan
            when 'prior_year_end_net_assets' then returns.prior_year_end_net_assets_yuan
            when 'registered_capital' then returns.registered_capital_yuan
        end as denominator_yuan,
        {{ exact_ratio('returns.small_micro_agri_balance_yuan', 'returns.business_balance_yuan', 6) }}
            as small_micro_agri_balance_share,
        {{ exact_ratio('exposure_totals.small_micro_agri_client_count', 'exposure_totals.client_count', 6) }}
            as small_micro_agri_client_share,
        case
            when exposure_totals.inputs_loaded_at > returns._loaded_at then exposure_totals.inputs_loaded_at
            else returns._loaded_at
        end as row_loaded_at
    from returns
    inner join limits on limits.org_type = returns.org_type
    left join exposure_totals
        on exposure_totals.org_code = returns.org_code and exposure_totals.report_month = returns.report_month

),

numerators as (

    select
        joined.*,
        case
            when not is_from_exposures then reported_numerator_yuan
            when is_exposures_missing then null
            -- a return with no business outstanding has no exposure rows: every exposure amount is 0
            else coalesce(exposures_numerator_yuan, 0)
        end as numerator_yuan,
        case
            when raised_limit_value is not null
                and small_micro_agri_balance_share >= raised_limit_min_balance_share
                and small_micro_agri_client_share >= raised_limit_min_client_share
                then true
            else false
        end as is_raised_limit
    from joined

),

ratios as (

    select
        numerators.*,
        case when is_raised_limit then raised_limit_value else base_limit_value end as limit_value,
        case
            when denominator_yuan > 0 then {{ exact_ratio('numerator_yuan', 'denominator_yuan', 6) }}
        end as value,
        case
            when is_from_exposures and denominator_yuan > 0
                then {{ exact_ratio('reported_numerator_yuan', 'denominator_yuan', 6) }}
        end as reported_value,
        nullif(concat_ws(',',
            case when is_from_exposures and is_exposures_missing then 'exposures' end,
            case when reported_numerator_yuan is null and not is_from_exposures then numerator end,
            case when denominator_yuan is null then denominator end
        ), '') as missing_inputs
    from numerators

),

final as (

    select
        ratios.report_month,
        ratios.org_code,
        ratios.org_name,
        ratios.org_type,
        registries.district_code,
        ratios.ratio_code,
        ratios.ratio_name,
        ratios.numerator,
        ratios.denominator,
        case when ratios.is_from_exposures then 'exposures' else 'return' end as numerator_source,
        cast(ratios.numerator_yuan as decimal(20, 2)) as numerator_yuan,
        cast(ratios.reported_numerator_yuan as decimal(20, 2)) as reported_numerator_yuan,
        cast(case when ratios.is_from_exposures
                  then ratios.reported_numerator_yuan - ratios.numerator_yuan end as decimal(20, 2))
            as numerator_difference_yuan,
        cast(ratios.denominator_yuan as decimal(20, 2)) as denominator_yuan,
        cast(ratios.value as decimal(18, 6)) as value,
        cast(ratios.reported_value as decimal(18, 6)) as reported_value,
        cast(ratios.reported_value - ratios.value as decimal(18, 6)) as value_difference,
        cast(ratios.limit_value as decimal(9, 4)) as limit_value,
        ratios.is_raised_limit,
        cast(ratios.small_micro_agri_balance_share as decimal(9, 6)) as small_micro_agri_balance_share,
        cast(ratios.small_micro_agri_client_share as decimal(9, 6)) as small_micro_agri_client_share,
        cast(ratios.limit_value - ratios.value as decimal(18, 6)) as headroom,
        cast(case when ratios.denominator_yuan > 0
                  then ratios.limit_value * ratios.denominator_yuan - ratios.numerator_yuan end as decimal(20, 2))
            as headroom_yuan,
        case
            when ratios.numerator_yuan is null or ratios.denominator_yuan is null then null
            when ratios.denominator_yuan <= 0 then ratios.numerator_yuan > 0
            else ratios.value > ratios.limit_value
        end as breached,
        ratios.regulation,
        ratios.article,
        ratios.confidence,
        ratios.missing_inputs,
        max(ratios.row_loaded_at) over (partition by ratios.report_month) as inputs_loaded_at
    from ratios
    left join registries on registries.org_code = ratios.org_code

)

select * from final
