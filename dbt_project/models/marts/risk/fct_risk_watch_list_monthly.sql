-- Risk watch list (风险预警名单) per report month: the firms whose risk score (fct_enterprise_risk_signals_monthly)
-- is at least risk_parameters.watch_list_score_threshold, or that are in a guarantee contagion chain that month
-- (int_risk__guarantee_chain_members_monthly: the defaulted root or a firm linked to it within contagion_max_hops),
-- and what changed against the previous calendar month:
--   watch_status   new (on the list now, not the month before), still (both), left (the month before, not now:
--                  the row is kept for the month it left, with its current score if the firm is still scored)
--   score_change   risk_score - previous_risk_score (null when either is missing)
--   signals_appeared / signals_cleared   signals at 1 now and not the month before (absent, 0 or unknown), and
--                  the reverse
-- Kept month by month: month M is built from the signals and chains of M and M - 1, so a month is rebuilt when
-- the signals of M or of M - 1 were rebuilt after this model (both listed as watched inputs). The threshold is the
-- seed's current value for every month (rebuild with --full-refresh after changing it).

{%- set signal_months = [['fct_enterprise_risk_signals_monthly', 'report_month', 'inputs_loaded_at'],
                         ['fct_enterprise_risk_signals_monthly',
                          'cast(' ~ dbt.dateadd('month', 1, 'report_month') ~ ' as date)', 'inputs_loaded_at']] %}
{{ config(**incremental_by_period('report_month', inputs=signal_months,
    not_watched=['int_risk__guarantee_chain_members_monthly', 'stg_enterprise__registries'])) }}
{%- set this_or_next = '(' ~ periods_to_rebuild('report_month') ~ ' or '
        ~ periods_to_rebuild('report_month', months_before=1) ~ ')' %}
{%- set signal_names = ['loan_overdue', 'loan_downgrade', 'environmental_penalty', 'tax_rating_d',
                        'dishonest_debtor', 'carbon_efficiency_decline', 'guarantee_concentration'] %}

with

signals as (

    select * from {{ ref('fct_enterprise_risk_signals_monthly') }}
    where {{ this_or_next }}

),

chain_members as (

    select
        report_month,
        member_credit_code as credit_code,
        chain_root_credit_code,
        hop_distance,
        row_number() over (
            partition by report_month, member_credit_code order by hop_distance, chain_root_credit_code
        ) as nearness
    from {{ ref('int_risk__guarantee_chain_members_monthly') }}
    where {{ this_or_next }}

),

months as (

    select report_month, max(inputs_loaded_at) as month_loaded_at
    from signals
    group by report_month

),

target_months as (

    select
        this_month.report_month,
        cast({{ dbt.dateadd('month', -1, 'this_month.report_month') }} as date) as previous_month,
        case
            when previous_month.month_loaded_at > this_month.month_loaded_at then previous_month.month_loaded_at
            else this_month.month_loaded_at
        end as inputs_loaded_at
    from months as this_month
    left join months as previous_month
        on previous_month.report_month = cast({{ dbt.dateadd('month', -1, 'this_month.report_month') }} as date)
    where {{ periods_to_rebuild('this_month.report_month') }}

),

threshold as (

    select {{ risk_parameter('watch_list_score_threshold') }} as score_threshold

),

-- the list of any month: score at or above the threshold, or a member of a chain
listed as (

    select
        coalesce(signals.report_month, chains.report_month) as report_month,
        coalesce(signals.credit_code, chains.credit_code) as credit_code,
        coalesce(signals.risk_score >= threshold.score_threshold, false) as is_score_at_or_above_threshold,
        (chains.credit_code is not null) as is_in_contagion_chain,
        chains.chain_root_credit_code,
        chains.hop_distance
    from signals
    cross join threshold
    full outer join (select * from chain_members where nearness = 1) as chains
        on chains.report_month = signals.report_month
        and chains.credit_code = signals.credit_code
    where coalesce(signals.risk_score >= threshold.score_threshold, false) or chains.credit_code is not null

),

candidates as (

    select target_months.report_month, listed.credit_code
    from target_months
    inner join listed on listed.report_month = target_months.report_month
    union
    select target_months.report_month, listed.credit_code
    from target_months
    inner join listed on listed.report_month = target_months.previous_month

),

compared as (

    select
        candidates.report_month,
        candidates.credit_code,
        target_months.inputs_loaded_at,
        now_listed.credit_code is not null as is_listed,
        before_listed.credit_code is not null as was_listed,
        coalesce(now_listed.is_score_at_or_above_threshold, false) as is_score_at_or_above_threshold,
        coalesce(before_listed.is_score_at_or_above_threshold, false) as was_score_at_or_above_threshold,
        coalesce(now_listed.is_in_contagion_chain, false) as is_in_contagion_chain,
        coalesce(before_listed.is_in_contagion_chain, false) as was_in_contagion_chain,
        now_listed.chain_root_credit_code as contagion_root_credit_code,
        now_listed.hop_distance as contagion_hop_distance,
        now_signals.enterprise_name,
        now_signals.risk_score,
        before_signals.risk_score as previous_risk_score,
        now_signals.signals_present,
        now_signals.missing_inputs,
        {%- for name in signal_names %}
        now_signals.{{ name }}_signal as now_{{ name }},
        before_signals.{{ name }}_signal as before_{{ name }},
        {%- endfor %}
        (now_signals.credit_code is null) as is_unscored_now
    from candidates
    inner join target_months on target_months.report_month = candidates.report_month
    left join listed as now_listed
        on now_listed.report_month = candidates.report_month
        and now_listed.credit_code = candidates.credit_code
    left join listed as before_listed
        on before_listed.report_month = target_months.previous_month
        and before_listed.credit_code = candidates.credit_code
    left join signals as now_signals
        on now_signals.report_month = candidates.report_month
        and now_signals.credit_code = candidates.credit_code
    left join signals as before_signals
        on before_signals.report_month = target_months.previous_month
        and before_signals.credit_code = candidates.credit_code

),

final as (

    select
        compared.report_month,
        compared.credit_code,
        coalesce(compared.enterprise_name, registries.enterprise_name) as enterprise_name,
        case
            when compared.is_listed and not compared.was_listed then 'new'
            when compared.is_listed then 'still'
            else 'left'
        end as watch_status,
        {{ risk_label_list([['compared.is_score_at_or_above_threshold', 'score'],
                            ['compared.is_in_contagion_chain', 'contagion']]) }} as watch_reasons,
        compared.risk_score,
        compared.previous_risk_score,
        cast(compared.risk_score - compared.previous_risk_score as decimal(6, 2)) as score_change,
        cast(threshold.score_threshold as decimal(5, 2)) as score_threshold,
        compared.is_score_at_or_above_threshold,
        compared.was_score_at_or_above_threshold,
        compared.is_in_contagion_chain,
        compared.was_in_contagion_chain,
        compared.contagion_root_credit_code,
        compared.contagion_hop_distance,
        compared.signals_present,
        {%- set appeared = [] %}{%- set cleared = [] %}
        {%- for name in signal_names %}
            {%- do appeared.append(['compared.now_' ~ name ~ ' = 1 and coalesce(compared.before_' ~ name ~ ', 0) <> 1', name]) %}
            {%- do cleared.append(['compared.before_' ~ name ~ ' = 1 and coalesce(compared.now_' ~ name ~ ', 0) <> 1', name]) %}
        {%- endfor %}
        {{ risk_label_list(appeared) }} as signals_appeared,
        {{ risk_label_list(cleared) }} as signals_cleared,
        case
            when compared.is_unscored_now then 'enterprise_risk_signals'
            else compared.missing_inputs
        end as missing_inputs,
        compared.inputs_loaded_at
    from compared
    cross join threshold
    left join {{ ref('stg_enterprise__registries') }} as registries
        on registries.credit_code = compared.credit_code

)

select * from final
