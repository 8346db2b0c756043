{{ config(meta={"dagster": {"ref": {"name": "int_climate_risk__borrower_stress_yearly"}}}) }}
-- depends_on: {{ ref('int_climate_risk__borrower_stress_yearly') }}
-- The normal_cdf macro (Abramowitz & Stegun 26.2.17, |error| < 7.5e-8) against known values of the standard normal
-- distribution N(x) (exact to 10 places, e.g. NIST/SEMATECH e-Handbook table; Python math.erf): a row here is a
-- value the macro gets wrong by more than 1e-7, or the symmetry N(x) + N(−x) = 1 broken, or null not kept.
with known as (
    select cast(0.0 as double) as x, cast(0.5 as double) as n_exact
    union all select 1.96, 0.9750021049
    union all select -1.96, 0.0249978951
    union all select -1.0, 0.1586552539
    union all select 1.0, 0.8413447461
    union all select 0.5, 0.6914624613
    union all select 2.5, 0.9937903347
    union all select -3.0, 0.0013498980
    union all select 6.0, 0.9999999990
),

computed as (
    select
        x,
        n_exact,
        {{ normal_cdf('x') }} as n_macro,
        {{ normal_cdf('-x') }} as n_macro_of_minus_x
    from known
)

select x, n_exact, n_macro, n_macro_of_minus_x
from computed
where abs(n_macro - n_exact) > 1e-7
   -- symmetry is exact by construction except at 0, where both sides are the approximation of N(0)
   or (x <> 0 and abs(n_macro + n_macro_of_minus_x - 1) > 1e-12)
union all
select null, null, null, null
from (select {{ normal_cdf('cast(null as double)') }} as n_of_null) as nulls
where n_of_null is not null
