-- Enterprise profile (企业画像): one row per enterprise of the registry (stg_enterprise__registries, the one
-- authoritative list of enterprises, 一数一源), current state as of the latest loan report month in the lake
-- (as_of_month). History is in the yearly marts (fct_esg_score_yearly, fct_carbon_efficiency_yearly,
-- fct_green_enterprise_identification_yearly); this dimension carries their latest year only.
-- Facts and their sources:
--   registry        status, size class, registered capital, industry (GB/T 4754-2017 class, its section and names
--                   from stg_public__industry_codes), district (GB/T 2260, name from stg_public__divisions)
--   financials      the latest financial year's revenue, value added, assets, liabilities, employees
--                   (stg_enterprise__financials)
--   loans           loans of borrower_type 企业 / 个体工商户 with borrower_id = credit_code reported for as_of_month
--                   (stg_bank__loans): balance, count, banks, green balance, worst five-category (贷款风险分类:
--                   正常 < 关注 < 次级 < 可疑 < 损失), max days overdue
--   guarantees      contracts in force at the end of as_of_month (stg_enterprise__guarantees), given and received
--   penalties       environmental penalty decisions (stg_public__environmental_penalties) decided in as_of_month or
--                   the var enterprise_penalty_lookback_months - 1 months before (default 36: the last 3 years),
--                   and the latest decision date up to the end of as_of_month
--   tax rating      latest rating published by the end of as_of_month (stg_public__tax_credit_ratings)
--   dishonest list  cases published by the end of as_of_month and not removed by then (stg_public__dishonest_debtors)
--   carbon / ESG    latest year with a grade / a total (fct_carbon_efficiency_yearly, fct_esg_score_yearly)
--   green ident.    latest year identified (fct_green_enterprise_identification_yearly)
--   listing         stage, board and stock code (stg_enterprise__listing_statuses)
-- Absent is not always missing (missing_inputs names only the missing): no loan, no guarantee, no penalty, not on
-- the dishonest list, not on the listing list are facts (0 / false / null stage) because those sources are
-- complete lists; a firm never in fct_carbon_efficiency_yearly is outside the carbon-efficiency scope (designated-
-- size industrial firms only). Missing: no financial statement, no tax rating published, in the carbon-efficiency
-- scope but never graded, no ESG total, no green identification, an empty penalty or dishonest register, an
-- industry or district code not in its code list.
-- A table: a current-state snapshot of whole registers (about 300k firms at scale 1), rebuilt on every run.
{%- set penalty_lookback_months = var('enterprise_penalty_lookback_months', 36) %}

with

registry as (

    select * from {{ ref('stg_enterprise__registries') }}

),

as_of as (

    select
        max(report_month) as as_of_month,
        cast({{ dbt.last_day('max(report_month)', 'month') }} as date) as as_of_month_end
    from {{ ref('stg_bank__loans') }}

),

industry_classes as (

    select industry_class_code, section_code, industry_name
    from {{ ref('stg_public__industry_codes') }}
    where industry_class_code is not null

),

industry_sections as (

    select section_code, industry_name as section_name
    from {{ ref('stg_public__industry_codes') }}
    where industry_code = section_code

),

divisions as (

    select division_code, division_name from {{ ref('stg_public__divisions') }}

),

financials_ranked as (

    select
        credit_code,
        year,
        operating_revenue_yuan,
        value_added_yuan,
        total_assets_yuan,
        total_liabilities_yuan,
        employees,
        row_number() over (partition by credit_code order by year desc) as recency
    from {{ ref('stg_enterprise__financials') }}

),

loans as (

    select
        loans.borrower_id as credit_code,
        count(loans.loan_id) as loan_count,
        count(distinct loans.bank_code) as bank_count,
        sum(loans.balance_yuan) as loan_balance_yuan,
        sum(case when loans.is_green then loans.balance_yuan else 0 end) as green_loan_balance_yuan,
        max(case loans.five_category
            when '正常' then 1 when '关注' then 2 when '次级' then 3 when '可疑' then 4 when '损失' then 5
        end) as worst_five_category_rank,
        max(loans.days_overdue) as max_days_overdue
    from {{ ref('stg_bank__loans') }} as loans
    inner join as_of on loans.report_month = as_of.as_of_month
    where loans.borrower_type in ('企业', '个体工商户')
    group by loans.borrower_id

),

guarantees_in_force as (

    select guarantees.guarantor_credit_code, guarantees.debtor_credit_code, guarantees.amount_yuan
    from {{ ref('stg_enterprise__guarantees') }} as guarantees
    inner join as_of
        on guarantees.start_date <= as_of.as_of_month_end
        and guarantees.end_date >= as_of.as_of_month_end

),

guarantees_given as (

    select
        guarantor_credit_code as credit_code,
        count(amount_yuan) as guarantees_given_count,
        sum(amount_yuan) as guarantees_given_yuan
    from guarantees_in_force
    group by guarantor_credit_code

),

guarantees_received as (

    select
        debtor_credit_code as credit_code,
        count(amount_yuan) as guarantees_received_count,
        sum(amount_yuan) as guarantees_received_yuan
    from guarantees_in_force
    group by debtor_credit_code

),

penalties as (

    select
        penalties.credit_code,
        count(case when {{ dbt.datediff('penalties.decision_month', 'as_of.as_of_month', 'month') }}
            < {{ penalty_lookback_months }} then penalties.decision_number end) as penalty_count_recent,
        sum(case when {{ dbt.datediff('penalties.decision_month', 'as_of.as_of_month', 'month') }}
            < {{ penalty_lookback_months }} then penalties.penalty_amount_yuan else 0 end) as penalty_amount_recent_yuan,
        max(penalties.decision_date) as latest_penalty_date
    from {{ ref('stg_public__environmental_penalties') }} as penalties
    inner join as_of on penalties.decision_date <= as_of.as_of_month_end
    group by penalties.credit_code

),

tax_ratings_ranked as (

    select
        ratings.credit_code,
        ratings.rating_year,
        ratings.credit_rating,
        row_number() over (partition by ratings.credit_code order by ratings.rating_year desc) as recency
    from {{ ref('stg_public__tax_credit_ratings') }} as ratings
    inner join as_of on ratings.publish_date <= as_of.as_of_month_end

),

dishonest as (

    select
        debtors.credit_code,
        count(debtors.case_number) as dishonest_case_count,
        sum(debtors.enforcement_amount_yuan) as dishonest_enforcement_yuan
    from {{ ref('stg_public__dishonest_debtors') }} as debtors
    inner join as_of
        on debtors.publish_date <= as_of.as_of_month_end
        and (debtors.removal_date is null or debtors.removal_date > as_of.as_of_month_end)
    where debtors.credit_code is not null
    group by debtors.credit_code

),

registers as (

    select
        (select count(*) from {{ ref('stg_public__environmental_penalties') }}) as penalty_rows,
        (select count(*) from {{ ref('stg_public__dishonest_debtors') }}) as dishonest_rows

),

carbon_ranked as (

    select
        credit_code,
        year,
        carbon_efficiency_grade,
        row_number() over (partition by credit_code order by year desc) as recency
    from {{ ref('fct_carbon_efficiency_yearly') }}
    where carbon_efficiency_grade is not null

),

carbon_scope as (

    select distinct credit_code from {{ ref('fct_carbon_efficiency_yearly') }}

),

esg_ranked as (

    select
        credit_code,
        year,
        total_score,
        esg_grade,
        row_number() over (partition by credit_code order by year desc) as recency
    from {{ ref('fct_esg_score_yearly') }}
    where total_score is not null

),

green_ranked as (

    select
        credit_code,
        year,
        identification_level,
        identification_level_zh,
        row_number() over (partition by credit_code order by year desc) as recency
    from {{ ref('fct_green_enterprise_identification_yearly') }}

),

listing as (

    select credit_code, stage, board, stock_code, listing_date from {{ ref('stg_enterprise__listing_statuses') }}

),

joined as (

    select
        registry.credit_code,
        registry.enterprise_name,
        as_of.as_of_month,
        registry.status,
        registry.size_class,
        registry.registered_capital_yuan,
        registry.established_date,
        registry.deregistered_date,
        registry.industry_code,
        industry_classes.industry_name,
        industry_classes.section_code as industry_section_code,
        industry_sections.section_name as industry_section_name,
        registry.district_code,
        divisions.division_name as district_name,
        financials.year as financial_year,
        financials.operating_revenue_yuan,
        financials.value_added_yuan,
        financials.total_assets_yuan,
        financials.total_liabilities_yuan,
        financials.employees,
        coalesce(loans.loan_count, 0) as loan_count,
        coalesce(loans.bank_count, 0) as bank_count,
        coalesce(loans.loan_balance_yuan, 0) as loan_balance_yuan,
        coalesce(loans.green_loan_balance_yuan, 0) as green_loan_balance_yuan,
        case loans.worst_five_category_rank
            when 1 then '正常' when 2 then '关注' when 3 then '次级' when 4 then '可疑' when 5 then '损失'
        end as worst_five_category,
        loans.max_days_overdue,
        coalesce(guarantees_given.guarantees_given_count, 0) as guarantees_given_count,
        coalesce(guarantees_given.guarantees_given_yuan, 0) as guarantees_given_yuan,
        coalesce(guarantees_received.guarantees_received_count, 0) as guarantees_received_count,
        coalesce(guarantees_received.guarantees_received_yuan, 0) as guarantees_received_yuan,
        case when registers.penalty_rows > 0 then coalesce(penalties.penalty_count_recent, 0) end
            as penalty_count_recent,
        case when registers.penalty_rows > 0 then coalesce(penalties.penalty_amount_recent_yuan, 0) end
            as penalty_amount_recent_yuan,
        penalties.latest_penalty_date,
        tax_ratings.credit_rating as tax_credit_rating,
        tax_ratings.rating_year as tax_rating_year,
        case when registers.dishonest_rows > 0 then coalesce(dishonest.dishonest_case_count, 0) > 0 end
            as is_dishonest_debtor,
        case when registers.dishonest_rows > 0 then coalesce(dishonest.dishonest_case_count, 0) end
            as dishonest_case_count,
        dishonest.dishonest_enforcement_yuan,
        carbon.carbon_efficiency_grade,
        carbon.year as carbon_efficiency_year,
        (carbon_scope.credit_code is not null) as is_in_carbon_efficiency_scope,
        esg.total_score as esg_total_score,
        esg.esg_grade,
        esg.year as esg_year,
        green.identification_level as green_identification_level,
        green.identification_level_zh as green_identification_level_zh,
        green.year as green_identification_year,
        listing.stage as listing_stage,
        listing.board as listing_board,
        listing.stock_code,
        listing.listing_date,
        registers.penalty_rows,
        registers.dishonest_rows,
        (financials.credit_code is null) as is_financials_missing
    from registry
    cross join as_of
    cross join registers
    left join industry_classes on industry_classes.industry_class_code = registry.industry_code
    left join industry_sections on industry_sections.section_code = industry_classes.section_code
    left join divisions on divisions.division_code = registry.district_code
    left join financials_ranked as financials
        on financials.credit_code = registry.credit_code and financials.recency = 1
    left join loans on loans.credit_code = registry.credit_code
    left join guarantees_given on guarantees_given.credit_code = registry.credit_code
    left join guarantees_received on guarantees_received.credit_code = registry.credit_code
    left join penalties on penalties.credit_code = registry.credit_code
    left join tax_ratings_ranked as tax_ratings
        on tax_ratings.credit_code = registry.credit_code and tax_ratings.recency = 1
    left join dishonest on dishonest.credit_code = registry.credit_code
    left join carbon_ranked as carbon on carbon.credit_code = registry.credit_code and carbon.recency = 1
    left join carbon_scope on carbon_scope.credit_code = registry.credit_code
    left join esg_ranked as esg on esg.credit_code = registry.credit_code and esg.recency = 1
    left join green_ranked as green on green.credit_code = registry.credit_code and green.recency = 1
    left join listing on listing.credit_code = registry.credit_code

),

final as (

    select
        credit_code,
        enterprise_name,
        cast(as_of_month as date) as as_of_month,
        status,
        size_class,
        registered_capital_yuan,
        established_date,
        deregistered_date,
        industry_code,
        industry_name,
        industry_section_code,
        industry_section_name,
        district_code,
        district_name,
        cast(financial_year as integer) as financial_year,
        operating_revenue_yuan,
        value_added_yuan,
        total_assets_yuan,
        total_liabilities_yuan,
        cast(employees as integer) as employees,
        cast(loan_count as bigint) as loan_count,
        cast(bank_count as bigint) as bank_count,
        cast(loan_balance_yuan as decimal(20, 2)) as loan_balance_yuan,
        cast(green_loan_balance_yuan as decimal(20, 2)) as green_loan_balance_yuan,
        worst_five_category,
        cast(max_days_overdue as integer) as max_days_overdue,
        cast(guarantees_given_count as bigint) as guarantees_given_count,
        cast(guarantees_given_yuan as decimal(20, 2)) as guarantees_given_yuan,
        cast(guarantees_received_count as bigint) as guarantees_received_count,
        cast(guarantees_received_yuan as decimal(20, 2)) as guarantees_received_yuan,
        cast(penalty_count_recent as bigint) as penalty_count_recent,
        cast(penalty_amount_recent_yuan as decimal(20, 2)) as penalty_amount_recent_yuan,
        latest_penalty_date,
        tax_credit_rating,
        cast(tax_rating_year as integer) as tax_rating_year,
        is_dishonest_debtor,
        cast(dishonest_case_count as bigint) as dishonest_case_count,
        cast(dishonest_enforcement_yuan as decimal(20, 2)) as dishonest_enforcement_yuan,
        cast(carbon_efficiency_grade as integer) as carbon_efficiency_grade,
        cast(carbon_efficiency_year as integer) as carbon_efficiency_year,
        is_in_carbon_efficiency_scope,
        cast(esg_total_score as decimal(5, 2)) as esg_total_score,
        esg_grade,
        cast(esg_year as integer) as esg_year,
        green_identification_level,
        green_identification_level_zh,
        cast(green_identification_year as integer) as green_identification_year,
        listing_stage,
        listing_board,
        stock_code,
        listing_date,
        nullif(concat_ws(', ',
            case when industry_name is null then 'industry_code' end,
            case when district_name is null then 'district_code' end,
            case when is_financials_missing then 'financial_statement' end,
            case when penalty_rows = 0 then 'environmental_penalties' end,
            case when tax_credit_rating is null then 'tax_credit_rating' end,
            case when dishonest_rows = 0 then 'dishonest_debtors' end,
            case when is_in_carbon_efficiency_scope and carbon_efficiency_grade is null
                then 'carbon_efficiency_grade' end,
            case when esg_total_score is null then 'esg_score' end,
            case when green_identification_level is null then 'green_identification' end
        ), '') as missing_inputs
    from joined

)

select * from final
