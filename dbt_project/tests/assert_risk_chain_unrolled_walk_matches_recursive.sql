-- The guarantee-chain walk has two implementations (macros/risk_early_warning.sql): WITH RECURSIVE (DuckDB, the
-- default) and unrolled joins (Spark 3.x, which has no recursive CTE). Both must find the same paths: run both here
-- on the lake's links and roots of every month plus a fixed graph with a third hop and a cycle (R–A, A–B, B–C,
-- B–D, D–A), and return any path one finds and the other does not. The lake's months are those whose loan signals
-- were (re)built since the test last passed (every month on a first run or with --vars test_every_row): the two
-- walks were compared on all 84 months of every run (1.2 s at scale 1); the fixed graph is walked every time.
{{ config(meta={"tested_by_period": {"inputs": [["int_risk__loan_signals_monthly", "report_month", none]]}}) }}

with

lake_months as (

    select distinct report_month, cast({{ dbt.last_day('report_month', 'month') }} as date) as month_end
    from {{ ref('int_risk__loan_signals_monthly') }}
    where {{ periods_to_test('report_month') }}

),

links as (

    select lake_months.report_month, g.guarantor_credit_code as from_credit_code, g.debtor_credit_code as to_credit_code
    from lake_months
    inner join {{ ref('stg_enterprise__guarantees') }} as g
        on g.start_date <= lake_months.month_end and g.end_date >= lake_months.month_end
    union
    select lake_months.report_month, g.debtor_credit_code, g.guarantor_credit_code
    from lake_months
    inner join {{ ref('stg_enterprise__guarantees') }} as g
        on g.start_date <= lake_months.month_end and g.end_date >= lake_months.month_end
    union
    select cast('1900-01-01' as date), from_code, to_code
    from (values ('R', 'A'), ('A', 'R'), ('A', 'B'), ('B', 'A'), ('B', 'C'), ('C', 'B'), ('B', 'D'), ('D', 'B'),
                 ('D', 'A'), ('A', 'D')) as fixed (from_code, to_code)

),

roots as (

    select report_month, credit_code as root_credit_code, cast({{ risk_parameter('contagion_max_hops') }} as integer) as max_hops
    from {{ ref('int_risk__loan_signals_monthly') }}
    where is_in_default
        and {{ periods_to_test('report_month') }}
    union all
    select cast('1900-01-01' as date), 'R', cast({{ risk_parameter('contagion_max_hops') }} as integer)

),

recursive_walk as (

    select * from {{ default__risk_guarantee_chain_walk('roots', 'links') }} as walk

),

unrolled_walk as (

    select * from {{ spark__risk_guarantee_chain_walk('roots', 'links') }} as walk

),

only_recursive as (

    select 'only_recursive' as found_by, * from recursive_walk
    except
    select 'only_recursive', * from unrolled_walk

),

only_unrolled as (

    select 'only_unrolled' as found_by, * from unrolled_walk
    except
    select 'only_unrolled', * from recursive_walk

)

select * from only_recursive
union all
select * from only_unrolled
