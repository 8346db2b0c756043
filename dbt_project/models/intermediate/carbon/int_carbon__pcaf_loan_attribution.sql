-- PCAF attribution factor of each loan and year: PCAF Global GHG Accounting and Reporting Standard Part A, 2nd
-- edition (2022), chapter 5 ([C], ../shared/reference/domain-methods.md "Financed emissions"):
--   business loans (5.2), unlisted borrower: outstanding ÷ (equity + debt), negative book equity counted as 0
--   business loans (5.2), listed borrower:   outstanding ÷ EVIC, EVIC = year-end market cap + debt (5.1)
--   project finance (5.3):                  outstanding ÷ (project equity + debt) = ÷ total project investment
--   mortgages (5.5):                        outstanding ÷ property value at origination: not reported, so the
--                                           default factor of seed pcaf_retail_parameters ([U]), flagged
--   motor vehicle loans (5.6):              outstanding ÷ vehicle value at origination: not reported, so 100%
--                                           as PCAF allows when the value is unknown ([C]), flagged
--   consumer and other loans:               not covered by PCAF Part A, no factor
-- Outstanding = the balance at the year's last reported month of the loan (December, or the latest month the loan
-- was reported in that year: outstanding_month says which). Debt = total liabilities (stg_enterprise__financials),
-- an approximation of PCAF's book value of debt (which excludes non-debt liabilities such as payables); EVIC lacks
-- minority interests (not delivered). The factor is capped at 1 (PCAF: no more than 100% of a borrower's emissions
-- is attributed), is_factor_capped says where. A factor that cannot be computed is null, missing_inputs says why.
-- Kept year by year (macro incremental_by_period_with_appends): a bank's month newer than every month the year holds
-- for that bank replaces the rows of the loans it reports; a December market-data row (the year-end market cap; the
-- other months' rows change nothing here) replaces the rows of its borrower's loans of the year, read whole for
-- that borrower (it rebuilt the whole year every December before, issue 9); any other (re)delivery of a loan report
-- or financial statement of a year recomputes the year. inputs_loaded_at is the
-- newest load time among the loan report row the outstanding is taken from and the borrower's financial and
-- market-data rows. The listing statuses are not watched: they are a monthly full dump, every row of which is loaded
-- anew, so watching them would rebuild every year each month. A firm that lists in year Y counts as listed from Y
-- on; Y's loans reported after the listing is loaded take it at once, and the December market data rebuilds Y
-- whole. A listing date corrected into an earlier year, or a delisting, reaches the years already built only with
-- --vars '{rebuild_periods: [...]}' or --full-refresh.

{%- set loan_year = "cast(extract(year from report_month) as integer)" %}
{%- set trade_year = "cast(extract(year from trade_month) as integer)" %}
{%- set december_trade_year = "case when extract(month from trade_month) = 12 then " ~ trade_year ~ " end" %}
{%- set watched = [
    ['stg_bank__loans', loan_year, 'loaded_at'],
    ['stg_enterprise__financials', 'year', '_loaded_at'],
    ['stg_enterprise__market_data', december_trade_year, '_loaded_at'],
] %}
{{ config(**incremental_by_period_with_appends('year', inputs=watched, appends={
    'input': 'stg_bank__loans', 'month': 'report_month', 'loaded_at': 'loaded_at', 'latest': 'outstanding_month',
    'group': ['bank_code'], 'keys': ['bank_code', 'loan_id'],
    'keyed': [{'input': 'stg_enterprise__market_data', 'key': 'credit_code', 'column': 'borrower_id'}]},
    not_watched=['stg_enterprise__listing_statuses'])) }}

with

loans as (

    select
        bank_code,
        bank_name,
        loan_id,
        report_month,
        cast(extract(year from report_month) as integer) as year,
        borrower_type,
        borrower_id,
        industry_code,
        product,
        balance_yuan,
        project_total_investment_yuan,
        loaded_at
    from {{ ref('stg_bank__loans') }}
    where {{ periods_or_appended_months(loan_year, year_of='report_month') }}

),

-- the loan's last reported month of each year
last_months as (

    select bank_code, loan_id, year, max(report_month) as outstanding_month
    from loans
    group by bank_code, loan_id, year

),

loan_years as (

    select loans.*
    from loans
    inner join last_months
        on last_months.bank_code = loans.bank_code
        and last_months.loan_id = loans.loan_id
        and last_months.outstanding_month = loans.report_month

),

asset_classes as (

    select product, borrower_type, asset_class from {{ ref('pcaf_asset_class_of_product') }}

),

retail_parameters as (

    select asset_class, default_attribution_factor from {{ ref('pcaf_retail_parameters') }}

),

financials as (

    select credit_code, year, equity_yuan, total_liabilities_yuan, _loaded_at
    from {{ ref('stg_enterprise__financials') }}
    where {{ periods_touched('year') }}

),

-- listing status from the authoritative listing source; listed in a year if listed on or before its end
listed_companies as (

    select credit_code, listing_date
    from {{ ref('stg_enterprise__listing_statuses') }}
    where stage = '上市'

),

-- market capitalisation at the year's end: the December row of the authoritative market data
year_end_market_caps as (

    select
        credit_code,
        cast(extract(year from trade_month) as integer) as year,
        market_cap_yuan,
        _loaded_at
    from {{ ref('stg_enterprise__market_data') }}
    where extract(month from trade_month) = 12
        and {{ periods_touched(trade_year, year_of='trade_month') }}

),

joined as (

    select
        loan_years.year,
        loan_years.bank_code,
        loan_years.bank_name,
        loan_years.loan_id,
        loan_years.report_month as outstanding_month,
        loan_years.borrower_type,
        loan_years.borrower_id,
        loan_years.industry_code,
        loan_years.product,
        asset_classes.asset_class,
        loan_years.balance_yuan as outstanding_yuan,
        loan_years.project_total_investment_yuan,
        case when listed_companies.credit_code is not null
            and extract(year from listed_companies.listing_date) <= loan_years.year
            then true else false
        end as is_listed,
        financials.credit_code is not null as has_financials,
        financials.equity_yuan,
        financials.total_liabilities_yuan,
        year_end_market_caps.market_cap_yuan,
        retail_parameters.default_attribution_factor,
        greatest(loan_years.loaded_at, coalesce(financials._loaded_at, loan_years.loaded_at),
                 coalesce(year_end_market_caps._loaded_at, loan_years.loaded_at)) as loaded_at
    from loan_years
    left join asset_classes
        on asset_classes.product = loan_years.product
        and asset_classes.borrower_type = loan_years.borrower_type
    -- borrower data only for borrowers identified by a unified social credit code; the borrower type is tested
    -- inside the key so that every condition is an equality of the two sides (a hash join: a condition on one
    -- side only makes DuckDB compare every pair of rows)
    left join financials
        on financials.credit_code
            = case when loan_years.borrower_type in ('企业', '个体工商户') then loan_years.borrower_id end
        and financials.year = loan_years.year
    left join listed_companies
        on listed_companies.credit_code = case when loan_years.borrower_type = '企业' then loan_years.borrower_id end
    left join year_end_market_caps
        on year_end_market_caps.credit_code
            = case when loan_years.borrower_type = '企业' then loan_years.borrower_id end
        and year_end_market_caps.year = loan_years.year
    left join retail_parameters
        on retail_parameters.asset_class = asset_classes.asset_class

),

with_denominator as (

    select
        joined.*,
        case
            when asset_class = 'business_loan' and is_listed then 'evic'
            when asset_class = 'business_loan' then 'equity_plus_debt'
            when asset_class = 'project_finance' then 'project_total_investment'
            when asset_class = 'mortgage' then 'default_loan_to_value'
            when asset_class = 'motor_vehicle_loan' then 'vehicle_value_unknown_full_attribution'
            when asset_class = 'out_of_scope' then 'not_covered_by_pcaf'
        end as attribution_basis,
        case
            -- EVIC (PCAF 5.1) = market capitalisation + book debt (+ minority interests: not delivered)
            when asset_class = 'business_loan' and is_listed then market_cap_yuan + total_liabilities_yuan
            -- equity + debt with negative book equity counted as 0 (PCAF 5.2)
            when asset_class = 'business_loan'
                then case when equity_yuan < 0 then 0 else equity_yuan end + total_liabilities_yuan
            when asset_class = 'project_finance' then project_total_investment_yuan
        end as attribution_denominator_yuan
    from joined

),

with_factor as (

    select
        with_denominator.*,
        case
            when asset_class in ('business_loan', 'project_finance') and attribution_denominator_yuan > 0
                then {{ exact_ratio('outstanding_yuan', 'attribution_denominator_yuan', 10) }}
            when asset_class in ('mortgage', 'motor_vehicle_loan') then default_attribution_factor
        end as uncapped_factor
    from with_denominator

),

final as (

    select
        year,
        bank_code,
        bank_name,
        loan_id,
        outstanding_month,
        extract(month from outstanding_month) = 12 as is_year_end_outstanding,
        borrower_type,
        borrower_id,
        industry_code,
        product,
        asset_class,
        is_listed,
        outstanding_yuan,
        cast(attribution_denominator_yuan as decimal(20, 2)) as attribution_denominator_yuan,
        attribution_basis,
        -- capped at 1: a loan larger than the borrower's equity + debt (or EVIC, or the project) is attributed 100%
        cast(case when uncapped_factor > 1 then 1 else uncapped_factor end as decimal(12, 10)) as attribution_factor,
        case when uncapped_factor > 1 then true else false end as is_factor_capped,
        -- what kept the factor from its PCAF definition; null when nothing is missing
        nullif(concat_ws(', ',
            case when asset_class is null then 'asset_class' end,
            case when asset_class = 'business_loan' and not has_financials then 'financials' end,
            case when asset_class = 'business_loan' and is_listed and market_cap_yuan is null then 'market_cap' end,
            case when asset_class = 'business_loan' and attribution_denominator_yuan <= 0
                then 'equity_plus_debt_not_positive' end,
            case when asset_class = 'project_finance' and project_total_investment_yuan is null
                then 'project_total_investment' end,
            case when asset_class = 'project_finance' and project_total_investment_yuan <= 0
                then 'project_total_investment_not_positive' end,
            case when asset_class = 'mortgage' then 'property_value' end,
            case when asset_class = 'motor_vehicle_loan' then 'vehicle_value' end,
            case when asset_class in ('mortgage', 'motor_vehicle_loan') and default_attribution_factor is null
                then 'pcaf_retail_parameters' end
        ), '') as missing_inputs,
        loaded_at as inputs_loaded_at
    from with_factor

)

select * from final
