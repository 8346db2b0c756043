-- Guarantee-chain contagion (担保链风险传染): per report month, every firm linked to a firm in default through
-- guarantee relationships within risk_parameters.contagion_max_hops links. A firm is in default in a month when
-- one of its loans is 次级 / 可疑 / 损失 or more than default_days_overdue days overdue (int_risk__loan_signals_monthly;
-- loan five-category rule, ../shared/reference/domain-methods.md [S]). A link is a guarantee contract
-- (stg_enterprise__guarantees) in force at the month's end (start_date <= month end <= end_date), walked in both
-- directions (guarantor ↔ debtor: the guarantor pays when the debtor defaults, and a guarantor in distress weakens
-- the debts it guarantees). The walk (macro risk_guarantee_chain_walk: WITH RECURSIVE, unrolled on Spark 3.x)
-- never revisits a firm on its path, so cycles (A guarantees B, B guarantees A) end; each member keeps its shortest
-- hop distance from the root and one shortest path. One chain per defaulted root that has at least one linked firm;
-- the root is the member at hop 0.
-- The guarantee source is the platform's current dump (contracts in force at the latest dump), so months before the
-- dump miss the contracts that had already ended by then.

{%- set loan_signal_months = [['int_risk__loan_signals_monthly', 'report_month', 'inputs_loaded_at']] %}
{{ config(**incremental_by_period('report_month', inputs=loan_signal_months, not_watched=['stg_enterprise__guarantees'])) }}

with

loan_signals as (

    select report_month, credit_code, is_in_default, inputs_loaded_at
    from {{ ref('int_risk__loan_signals_monthly') }}
    where {{ periods_to_rebuild('report_month') }}

),

months as (

    select
        report_month,
        cast({{ dbt.last_day('report_month', 'month') }} as date) as month_end,
        max(inputs_loaded_at) as inputs_loaded_at
    from loan_signals
    group by report_month

),

links as (

    select
        months.report_month,
        guarantees.guarantor_credit_code as from_credit_code,
        guarantees.debtor_credit_code as to_credit_code
    from months
    inner join {{ ref('stg_enterprise__guarantees') }} as guarantees
        on guarantees.start_date <= months.month_end
        and guarantees.end_date >= months.month_end
    union
    select
        months.report_month,
        guarantees.debtor_credit_code as from_credit_code,
        guarantees.guarantor_credit_code as to_credit_code
    from months
    inner join {{ ref('stg_enterprise__guarantees') }} as guarantees
        on guarantees.start_date <= months.month_end
        and guarantees.end_date >= months.month_end

),

roots as (

    select
        loan_signals.report_month,
        loan_signals.credit_code as root_credit_code,
        cast({{ risk_parameter('contagion_max_hops') }} as integer) as max_hops
    from loan_signals
    where loan_signals.is_in_default
        and exists (select 1 from links
                    where links.report_month = loan_signals.report_month
                        and links.from_credit_code = loan_signals.credit_code)

),

walked as (

    select * from {{ risk_guarantee_chain_walk('roots', 'links') }} as walk

),

shortest as (

    select
        walked.*,
        row_number() over (
            partition by report_month, chain_root_credit_code, member_credit_code
            order by hop_distance, guarantee_path
        ) as path_rank
    from walked

),

final as (

    select
        shortest.report_month,
        shortest.chain_root_credit_code,
        shortest.member_credit_code,
        cast(shortest.hop_distance as integer) as hop_distance,
        shortest.guarantee_path,
        months.inputs_loaded_at
    from shortest
    inner join months on months.report_month = shortest.report_month
    where shortest.path_rank = 1

)

select * from final
