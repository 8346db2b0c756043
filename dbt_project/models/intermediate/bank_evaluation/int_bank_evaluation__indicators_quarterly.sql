-- The four quantitative indicators of the PBoC green-finance evaluation of banks (《银行业金融机构绿色金融评价方案》,
-- 银发〔2021〕142号; ../shared/reference/domain-methods.md "Evaluations and scores" [C]), per evaluated bank and
-- quarter (quarter_end_month = first day of the quarter's last month; figures at that month end):
--   green loans        Σ balance of the bank's green loans (PBoC green-loan statistics) in the quarter-end month,
--                      from the green-credit theme (fct_green_loan_statistics_monthly, is_green rows); all Huzhou
--                      loans are domestic
--   green bonds        face amount of the green bonds of stg_bank__green_bonds outstanding at the quarter's last
--                      day (issue_date <= day < maturity_date) in which the bank has the role of seed parameter
--                      green_bond_role [U]: the scheme counts bonds held, no source reports holdings
--   green business     green loans + green bonds;  total business = all loans + green bonds
--   1 business share   green business ÷ total business
--   2 market share     green business ÷ Σ green business of all evaluated banks of the quarter
--   3 growth yoy       (green business − green business a year before) ÷ green business a year before
--   4 risk ratio       (NPL green loans 次级/可疑/损失 + defaulted green bonds) ÷ green business; no source reports
--                      bond defaults, so the numerator is the NPL green loans alone (lower is better)
-- Kept as a table, recomputed whole on every build: indicators 2 and 3 read other rows (all banks of the quarter;
-- the quarter a year before), so a reloaded month changes other quarters' figures too; the table is small
-- (banks × quarters). missing_inputs lists what an indicator lacked (null indicator, never 0).

with

parameters as (

    select green_bond_role, evaluated_scope from {{ ref('bank_green_evaluation_parameters') }}

),

statistics as (

    select report_month, bank_code, is_green, balance_yuan, npl_balance_yuan, inputs_loaded_at
    from {{ ref('fct_green_loan_statistics_monthly') }}
    where extract(month from report_month) in (3, 6, 9, 12)

),

institutions as (

    select institution_code, institution_name, institution_type, legal_form, uscc
    from {{ ref('stg_bank__institutions') }}

),

bonds as (

    select issuer_uscc, lead_underwriter_code, amount_yuan, issue_date, maturity_date
    from {{ ref('stg_bank__green_bonds') }}

),

loan_quarters as (

    select
        report_month as quarter_end_month,
        bank_code,
        sum(balance_yuan) as total_loan_yuan,
        sum(case when is_green then balance_yuan else 0 end) as green_loan_yuan,
        sum(case when is_green then npl_balance_yuan else 0 end) as green_npl_loan_yuan,
        max(inputs_loaded_at) as inputs_loaded_at
    from statistics
    group by report_month, bank_code

),

banks as (

    select
        loan_quarters.*,
        institutions.institution_name as bank_name,
        institutions.uscc,
        cast({{ dbt.last_day('loan_quarters.quarter_end_month', 'month') }} as date) as quarter_end_date
    from loan_quarters
    left join institutions on institutions.institution_code = loan_quarters.bank_code
    cross join parameters
    where parameters.evaluated_scope = 'all_reporting_banks'
        or (institutions.institution_type = '银行' and institutions.legal_form = '法人机构')

),

bank_bonds as (

    select
        banks.bank_code,
        banks.quarter_end_month,
        sum(bonds.amount_yuan) as green_bond_yuan
    from banks
    cross join parameters
    inner join bonds
        on bonds.issue_date <= banks.quarter_end_date
        and bonds.maturity_date > banks.quarter_end_date
        and (
            (parameters.green_bond_role in ('lead_underwriter', 'issuer_or_lead_underwriter')
             and bonds.lead_underwriter_code = banks.bank_code)
            or (parameters.green_bond_role in ('issuer', 'issuer_or_lead_underwriter')
                and bonds.issuer_uscc = banks.uscc)
        )
    group by banks.bank_code, banks.quarter_end_month

),

business as (

    select
        banks.quarter_end_month,
        banks.bank_code,
        banks.bank_name,
        banks.green_loan_yuan,
        -- a quarter without a bond in the bank's role has none: the bond file is delivered every month
        coalesce(bank_bonds.green_bond_yuan, 0) as green_bond_yuan,
        banks.green_loan_yuan + coalesce(bank_bonds.green_bond_yuan, 0) as green_business_yuan,
        banks.total_loan_yuan + coalesce(bank_bonds.green_bond_yuan, 0) as total_business_yuan,
        banks.green_npl_loan_yuan,
        banks.inputs_loaded_at
    from banks
    left join bank_bonds
        on bank_bonds.bank_code = banks.bank_code
        and bank_bonds.quarter_end_month = banks.quarter_end_month

),

with_year_before as (

    select
        business.*,
        sum(business.green_business_yuan) over (partition by business.quarter_end_month)
            as all_banks_green_business_yuan,
        year_before.green_business_yuan as green_business_year_before_yuan,
        year_before.inputs_loaded_at as year_before_loaded_at
    from business
    left join business as year_before
        on year_before.bank_code = business.bank_code
        and year_before.quarter_end_month = cast({{ dbt.dateadd('month', -12, 'business.quarter_end_month') }} as date)

),

final as (

    select
        quarter_end_month,
        bank_code,
        bank_name,
        cast(green_loan_yuan as decimal(20, 2)) as green_loan_yuan,
        cast(green_bond_yuan as decimal(20, 2)) as green_bond_yuan,
        cast(green_business_yuan as decimal(20, 2)) as green_business_yuan,
        cast(total_business_yuan as decimal(20, 2)) as total_business_yuan,
        cast(green_npl_loan_yuan as decimal(20, 2)) as green_npl_loan_yuan,
        cast(green_business_year_before_yuan as decimal(20, 2)) as green_business_year_before_yuan,
        cast({{ exact_ratio('green_business_yuan', 'total_business_yuan', 6) }} as decimal(9, 6))
            as green_business_share,
        cast({{ exact_ratio('green_business_yuan', 'all_banks_green_business_yuan', 6) }} as decimal(9, 6))
            as green_market_share,
        cast({{ exact_ratio('green_business_yuan - green_business_year_before_yuan',
                            'green_business_year_before_yuan', 6) }} as decimal(18, 6)) as green_growth_yoy,
        cast({{ exact_ratio('green_npl_loan_yuan', 'green_business_yuan', 6) }} as decimal(9, 6))
            as green_risk_ratio,
        nullif(concat_ws(',',
            case when total_business_yuan = 0 then 'total_business' end,
            case when green_business_year_before_yuan is null then 'green_business_year_before'
                 when green_business_year_before_yuan = 0 then 'green_business_year_before_zero' end,
            case when green_business_yuan = 0 then 'green_business_zero' end
        ), '') as missing_inputs,
        case
            when year_before_loaded_at is not null and year_before_loaded_at > inputs_loaded_at
                then year_before_loaded_at
            else inputs_loaded_at
        end as inputs_loaded_at
    from with_year_before

)

select * from final
