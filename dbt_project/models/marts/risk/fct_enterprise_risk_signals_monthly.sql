-- Enterprise risk signals and risk score (风险预警) per report month and enterprise.
-- Firms: the enterprise borrowers (企业 / 个体工商户) with a loan outstanding at month end, and every party to a
-- guarantee contract in force at month end. Seven signals, each 0 or 1 (null when its input is missing):
--   loan_overdue              a loan overdue at month end                       (int_risk__loan_signals_monthly)
--   loan_downgrade            a loan classified worse than the month before     (idem; five-category rule 2023 [S])
--   environmental_penalty     an environmental penalty decided in the month or the penalty_lookback_months - 1
--                             months before (stg_public__environmental_penalties)
--   tax_rating_d              latest tax credit rating published by month end is D (stg_public__tax_credit_ratings;
--                             a year's ratings are published the following April)
--   dishonest_debtor          on the courts' dishonest-debtor list at month end (stg_public__dishonest_debtors:
--                             published on or before the month end and not removed by then)
--   carbon_efficiency_decline 碳效码 grade of year Y worse (higher) than of Y - 1, Y = report year -
--                             financial_data_lag_years (marts fct_carbon_efficiency_yearly, Zhejiang method [S])
--   guarantee_concentration   guarantees given in force at month end > max_guarantees_to_net_assets × net assets
--                             (equity of year Y from stg_enterprise__financials), or given with net assets <= 0
-- Score (0-100) = Σ contribution, contribution = 100 × weight × signal, weights from seed risk_signal_weights
-- (sum to 1, [U]). How missing inputs are treated — never as a silent 0:
--   * a signal whose input is missing has signal and contribution NULL, its input is named in missing_inputs, and
--     the score is the sum of the contributions that could be computed: a floor, with score_weight_covered (Σ
--     weights of the computed signals, 1 when complete) saying how much of the score was assessable;
--   * missing means: no loan report in the lake for the previous month (loans_previous_month: downgrade); no tax
--     rating published for the firm (tax_credit_rating); a firm graded in year Y or Y - 1 but not both
--     (carbon_efficiency_grade); guarantees given but no financials of year Y (net_assets); an empty penalty or
--     dishonest-debtor register (environmental_penalties, dishonest_debtors);
--   * not missing, deliberately 0: no penalty / not listed in a non-empty register (the registers are complete
--     public lists); a firm graded in neither year is outside the carbon-efficiency scope (only designated-size
--     industrial firms are graded); a firm giving no guarantee has no guarantee concentration.
-- Kept month by month, rebuilt with the loan months (int_risk__loan_signals_monthly). The other inputs are
-- registers and annual data without a report month: after a new delivery of them, rebuild the affected months with
-- --vars '{rebuild_periods: [...]}' or --full-refresh.

{%- set loan_signal_months = [['int_risk__loan_signals_monthly', 'report_month', 'inputs_loaded_at']] %}
{{ config(**incremental_by_period('report_month', inputs=loan_signal_months, not_watched=[
    'stg_enterprise__guarantees', 'stg_public__environmental_penalties', 'stg_public__tax_credit_ratings',
    'stg_public__dishonest_debtors', 'fct_carbon_efficiency_yearly', 'stg_enterprise__financials',
    'stg_enterprise__registries'])) }}

with

loan_signals as (

    select * from {{ ref('int_risk__loan_signals_monthly') }}
    where {{ periods_to_rebuild('report_month') }}

),

months as (

    select
        report_month,
        cast({{ dbt.last_day('report_month', 'month') }} as date) as month_end,
        cast(extract(year from report_month) - {{ risk_parameter('financial_data_lag_years') }} as integer)
            as data_year,
        max(inputs_loaded_at) as inputs_loaded_at,
        max(case when is_previous_month_reported then 1 else 0 end) as previous_month_reported_flag
    from loan_signals
    group by report_month

),

guarantees as (

    select
        months.report_month,
        guarantees.guarantor_credit_code,
        guarantees.debtor_credit_code,
        guarantees.amount_yuan
    from months
    inner join {{ ref('stg_enterprise__guarantees') }} as guarantees
        on guarantees.start_date <= months.month_end
        and guarantees.end_date >= months.month_end

),

firms as (

    select report_month, credit_code from loan_signals
    union
    select report_month, guarantor_credit_code as credit_code from guarantees
    union
    select report_month, debtor_credit_code as credit_code from guarantees

),

guarantees_given as (

    select report_month, guarantor_credit_code as credit_code, sum(amount_yuan) as guarantees_given_yuan
    from guarantees
    group by report_month, guarantor_credit_code

),

penalties as (

    select
        firms.report_month,
        firms.credit_code,
        count(*) as penalty_count,
        max(penalties.decision_date) as latest_penalty_decision_date
    from firms
    inner join {{ ref('stg_public__environmental_penalties') }} as penalties
        on penalties.credit_code = firms.credit_code
        and {{ dbt.datediff('penalties.decision_month', 'firms.report_month', 'month') }} >= 0
        and {{ dbt.datediff('penalties.decision_month', 'firms.report_month', 'month') }}
            < {{ risk_parameter('penalty_lookback_months') }}
    group by firms.report_month, firms.credit_code

),

tax_ratings as (

    select
        firms.report_month,
        firms.credit_code,
        ratings.rating_year,
        ratings.credit_rating,
        row_number() over (
            partition by firms.report_month, firms.credit_code order by ratings.rating_year desc
        ) as recency
    from firms
    inner join months on months.report_month = firms.report_month
    inner join {{ ref('stg_public__tax_credit_ratings') }} as ratings
        on ratings.credit_code = firms.credit_code
        and ratings.publish_date <= months.month_end

),

dishonest as (

    select firms.report_month, firms.credit_code, count(*) as listed_case_count
    from firms
    inner join months on months.report_month = firms.report_month
    inner join {{ ref('stg_public__dishonest_debtors') }} as debtors
        on debtors.credit_code = firms.credit_code
        and debtors.publish_date <= months.month_end
        and (debtors.removal_date is null or debtors.removal_date > months.month_end)
    group by firms.report_month, firms.credit_code

),

carbon as (

    select credit_code, year, carbon_efficiency_grade from {{ ref('fct_carbon_efficiency_yearly') }}

),

financials as (

    select credit_code, year, equity_yuan from {{ ref('stg_enterprise__financials') }}

),

registers as (

    select
        (select count(*) from {{ ref('stg_public__environmental_penalties') }}) as penalty_rows,
        (select count(*) from {{ ref('stg_public__dishonest_debtors') }}) as dishonest_rows

),

weights as (

    select
        max(case when signal = 'loan_overdue' then weight end) as w_loan_overdue,
        max(case when signal = 'loan_downgrade' then weight end) as w_loan_downgrade,
        max(case when signal = 'environmental_penalty' then weight end) as w_environmental_penalty,
        max(case when signal = 'tax_rating_d' then weight end) as w_tax_rating_d,
        max(case when signal = 'dishonest_debtor' then weight end) as w_dishonest_debtor,
        max(case when signal = 'carbon_efficiency_decline' then weight end) as w_carbon_efficiency_decline,
        max(case when signal = 'guarantee_concentration' then weight end) as w_guarantee_concentration
    from {{ ref('risk_signal_weights') }}

),

joined as (

    select
        firms.report_month,
        firms.credit_code,
        months.data_year,
        months.inputs_loaded_at,
        (months.previous_month_reported_flag = 1) as is_previous_month_reported,
        loan_signals.borrower_type,
        coalesce(loan_signals.loan_count, 0) as loan_count,
        coalesce(loan_signals.loan_balance_yuan, 0) as loan_balance_yuan,
        loan_signals.max_days_overdue,
        coalesce(loan_signals.overdue_loan_count, 0) as overdue_loan_count,
        coalesce(loan_signals.downgraded_loan_count, 0) as downgraded_loan_count,
        loan_signals.worst_five_category,
        coalesce(loan_signals.is_in_default, false) as is_in_default,
        coalesce(penalties.penalty_count, 0) as penalty_count,
        penalties.latest_penalty_decision_date,
        registers.penalty_rows,
        registers.dishonest_rows,
        tax_ratings.credit_rating as tax_credit_rating,
        tax_ratings.rating_year as tax_rating_year,
        coalesce(dishonest.listed_case_count, 0) as dishonest_case_count,
        carbon_now.carbon_efficiency_grade,
        carbon_before.carbon_efficiency_grade as previous_carbon_efficiency_grade,
        (carbon_now.credit_code is not null or carbon_before.credit_code is not null) as is_carbon_graded,
        coalesce(guarantees_given.guarantees_given_yuan, 0) as guarantees_given_yuan,
        financials.equity_yuan as net_assets_yuan,
        weights.*
    from firms
    inner join months on months.report_month = firms.report_month
    cross join registers
    cross join weights
    left join loan_signals
        on loan_signals.report_month = firms.report_month and loan_signals.credit_code = firms.credit_code
    left join penalties
        on penalties.report_month = firms.report_month and penalties.credit_code = firms.credit_code
    left join tax_ratings
        on tax_ratings.report_month = firms.report_month and tax_ratings.credit_code = firms.credit_code
        and tax_ratings.recency = 1
    left join dishonest
        on dishonest.report_month = firms.report_month and dishonest.credit_code = firms.credit_code
    left join carbon as carbon_now
        on carbon_now.credit_code = firms.credit_code and carbon_now.year = months.data_year
    left join carbon as carbon_before
        on carbon_before.credit_code = firms.credit_code and carbon_before.year = months.data_year - 1
    left join guarantees_given
        on guarantees_given.report_month = firms.report_month and guarantees_given.credit_code = firms.credit_code
    left join financials
        on financials.credit_code = firms.credit_code and financials.year = months.data_year

),

signals as (

    select
        joined.*,
        case when loan_count = 0 or max_days_overdue <= 0 then 0 else 1 end as loan_overdue_signal,
        case
            when loan_count = 0 then 0
            when downgraded_loan_count > 0 then 1
            when not is_previous_month_reported then null
            else 0
        end as loan_downgrade_signal,
        case when penalty_count > 0 then 1 when penalty_rows = 0 then null else 0 end as environmental_penalty_signal,
        case when tax_credit_rating is null then null when tax_credit_rating = 'D' then 1 else 0 end
            as tax_rating_d_signal,
        case when dishonest_case_count > 0 then 1 when dishonest_rows = 0 then null else 0 end
            as dishonest_debtor_signal,
        case
            when not is_carbon_graded then 0
            when carbon_efficiency_grade is null or previous_carbon_efficiency_grade is null then null
            when carbon_efficiency_grade > previous_carbon_efficiency_grade then 1
            else 0
        end as carbon_efficiency_decline_signal,
        case
            when guarantees_given_yuan = 0 then 0
            when net_assets_yuan is null then null
            when net_assets_yuan <= 0 then 1
            when guarantees_given_yuan > {{ risk_parameter('max_guarantees_to_net_assets') }} * net_assets_yuan then 1
            else 0
        end as guarantee_concentration_signal
    from joined

),

{%- set signal_names = ['loan_overdue', 'loan_downgrade', 'environmental_penalty', 'tax_rating_d',
                        'dishonest_debtor', 'carbon_efficiency_decline', 'guarantee_concentration'] %}

contributions as (

    select
        signals.*,
        {%- for name in signal_names %}
        cast(100 * w_{{ name }} * {{ name }}_signal as decimal(5, 2)) as {{ name }}_contribution,
        {%- endfor %}
        cast(
            {%- for name in signal_names %}
            {{ '+ ' if not loop.first }}case when {{ name }}_signal is not null then w_{{ name }} else 0 end
            {%- endfor %}
        as decimal(5, 4)) as score_weight_covered
    from signals

),

final as (

    select
        contributions.report_month,
        contributions.credit_code,
        registries.enterprise_name,
        contributions.borrower_type,
        cast(contributions.loan_count as bigint) as loan_count,
        cast(contributions.loan_balance_yuan as decimal(20, 2)) as loan_balance_yuan,
        cast(contributions.max_days_overdue as integer) as max_days_overdue,
        cast(contributions.overdue_loan_count as bigint) as overdue_loan_count,
        cast(contributions.downgraded_loan_count as bigint) as downgraded_loan_count,
        contributions.worst_five_category,
        contributions.is_in_default,
        cast(contributions.penalty_count as bigint) as penalty_count,
        contributions.latest_penalty_decision_date,
        contributions.tax_credit_rating,
        cast(contributions.tax_rating_year as integer) as tax_rating_year,
        cast(contributions.dishonest_case_count as bigint) as dishonest_case_count,
        cast(contributions.data_year as integer) as annual_data_year,
        cast(contributions.carbon_efficiency_grade as integer) as carbon_efficiency_grade,
        cast(contributions.previous_carbon_efficiency_grade as integer) as previous_carbon_efficiency_grade,
        cast(contributions.guarantees_given_yuan as decimal(20, 2)) as guarantees_given_yuan,
        cast(contributions.net_assets_yuan as decimal(20, 2)) as net_assets_yuan,
        {%- for name in signal_names %}
        cast(contributions.{{ name }}_signal as integer) as {{ name }}_signal,
        contributions.{{ name }}_contribution,
        {%- endfor %}
        cast(
            {%- for name in signal_names %}
            {{ '+ ' if not loop.first }}coalesce(contributions.{{ name }}_contribution, 0)
            {%- endfor %}
        as decimal(5, 2)) as risk_score,
        contributions.score_weight_covered,
        {{ risk_label_list([
               ['contributions.loan_overdue_signal = 1', 'loan_overdue'],
               ['contributions.loan_downgrade_signal = 1', 'loan_downgrade'],
               ['contributions.environmental_penalty_signal = 1', 'environmental_penalty'],
               ['contributions.tax_rating_d_signal = 1', 'tax_rating_d'],
               ['contributions.dishonest_debtor_signal = 1', 'dishonest_debtor'],
               ['contributions.carbon_efficiency_decline_signal = 1', 'carbon_efficiency_decline'],
               ['contributions.guarantee_concentration_signal = 1', 'guarantee_concentration']]) }} as signals_present,
        {{ risk_label_list([
               ['contributions.loan_downgrade_signal is null', 'loans_previous_month'],
               ['contributions.environmental_penalty_signal is null', 'environmental_penalties'],
               ['contributions.tax_rating_d_signal is null', 'tax_credit_rating'],
               ['contributions.dishonest_debtor_signal is null', 'dishonest_debtors'],
               ['contributions.carbon_efficiency_decline_signal is null', 'carbon_efficiency_grade'],
               ['contributions.guarantee_concentration_signal is null', 'net_assets']]) }} as missing_inputs,
        contributions.inputs_loaded_at
    from contributions
    left join {{ ref('stg_enterprise__registries') }} as registries
        on registries.credit_code = contributions.credit_code

)

select * from final
