{{ config(meta={"dagster": {"ref": {"name": "pcaf_asset_class_of_product"}},
                "tested_by_period": {"inputs": [["stg_bank__loans", "report_month", "loaded_at"]]}}) }}
-- Seed pcaf_asset_class_of_product, rule "every product mapped": every (product, borrower_type) the banks report in
-- stg_bank__loans has a PCAF asset class (PCAF Part A 2nd ed. 2022, chapter 5). A row here is a product and
-- borrower type without a row in the seed: add it (its loans would otherwise carry missing_inputs = asset_class).
-- It reads the months with loan reports loaded since it last passed; an edited seed has it read every month again.
select distinct
    loans.product,
    loans.borrower_type,
    'pcaf_asset_class_of_product: product and borrower type not mapped to a PCAF asset class' as rule
from {{ ref('stg_bank__loans') }} as loans
left join {{ ref('pcaf_asset_class_of_product') }} as seed
    on seed.product = loans.product
    and seed.borrower_type = loans.borrower_type
where seed.asset_class is null
    and {{ periods_to_test('loans.report_month') }}
