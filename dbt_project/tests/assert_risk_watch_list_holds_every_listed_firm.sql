-- Every firm that meets the watch-list rule in a month (score >= risk_parameters.watch_list_score_threshold in
-- fct_enterprise_risk_signals_monthly, or a member of a chain in int_risk__guarantee_chain_members_monthly) is on
-- fct_risk_watch_list_monthly that month as new or still, and no other firm is listed as new or still.

with

expected as (

    select report_month, credit_code
    from {{ ref('fct_enterprise_risk_signals_monthly') }}
    where risk_score >= {{ risk_parameter('watch_list_score_threshold') }}
    union
    select report_month, member_credit_code
    from {{ ref('int_risk__guarantee_chain_members_monthly') }}

),

listed as (

    select report_month, credit_code
    from {{ ref('fct_risk_watch_list_monthly') }}
    where watch_status in ('new', 'still')

)

select 'missing_from_watch_list' as problem, * from (select * from expected except select * from listed) as missing
union all
select 'listed_without_rule' as problem, * from (select * from listed except select * from expected) as extra
