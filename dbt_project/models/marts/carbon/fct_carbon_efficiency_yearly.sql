-- Carbon-efficiency code (碳效码) of each industrial enterprise and year, Zhejiang method "规上工业企业碳效等级评价方法"
-- ([S], ../shared/reference/domain-methods.md "Carbon-efficiency code"; thresholds in seed carbon_efficiency_thresholds):
--   level (§2): L across all industry: L <= 0.6 low, 0.6 < L <= 2.0 medium, L > 2.0 high carbon
--   K (§3):     firm's L ÷ average L of its industry in the same year
--   grade (§3): K <= 0.6 → 1, <= 0.8 → 2, <= 1.2 → 3, <= 2.0 → 4, > 2.0 → 5
-- "Industry" is the GB/T 4754-2017 class (4 digits, C3011), the level at which the published benchmark
-- (stg_public__carbon_intensity_benchmarks) gives industry averages; the industry average is that published
-- benchmark, not an average over the lake's own firms (the lake holds a sample of a class's firms, often one).

with

intensity as (

    select * from {{ ref('int_carbon__enterprise_intensity_yearly') }}

),

enterprises as (

    select credit_code, enterprise_name from {{ ref('stg_enterprise__registries') }}

),

-- industry names from the code list (one data, one source), not the benchmark's copy
industries as (

    select industry_class_code, industry_name
    from {{ ref('stg_public__industry_codes') }}
    where industry_class_code is not null

),

benchmarks as (

    select benchmark_year, industry_code, intensity_t_co2_per_10k_yuan
    from {{ ref('stg_public__carbon_intensity_benchmarks') }}

),

-- each band with its exclusive lower bound (the previous band's upper bound): (lower_bound, upper_bound]
bands as (

    select
        measure,
        band_seq,
        band_label,
        lag(upper_bound) over (partition by measure order by band_seq) as lower_bound,
        upper_bound
    from {{ ref('carbon_efficiency_thresholds') }}

),

with_k as (

    select
        intensity.credit_code,
        intensity.year,
        intensity.industry_code,
        intensity.district_code,
        intensity.co2_energy_t,
        intensity.value_added_yuan,
        intensity.carbon_intensity_t_per_10k_yuan,
        benchmarks.intensity_t_co2_per_10k_yuan as industry_avg_intensity_t_per_10k_yuan,
        -- K = L ÷ industry average = t × 10,000 ÷ (yuan × average), from the exact inputs (not the rounded L),
        -- exact to 6 places (half up); graded as published, so a reader can check the grade against K
        case when intensity.carbon_intensity_t_per_10k_yuan is not null
            and benchmarks.intensity_t_co2_per_10k_yuan > 0
            then cast({{ exact_ratio('intensity.co2_energy_t * 10000',
                                     'intensity.value_added_yuan * benchmarks.intensity_t_co2_per_10k_yuan', 6) }}
                      as decimal(18, 6))
        end as carbon_efficiency_k,
        nullif(concat_ws(', ',
            intensity.missing_inputs,
            case when benchmarks.intensity_t_co2_per_10k_yuan is null then 'industry_average' end
        ), '') as missing_inputs
    from intensity
    left join benchmarks
        on benchmarks.industry_code = intensity.industry_code
        and benchmarks.benchmark_year = intensity.year

),

final as (

    select
        with_k.credit_code,
        enterprises.enterprise_name,
        with_k.year,
        with_k.industry_code,
        industries.industry_name,
        with_k.district_code,
        with_k.co2_energy_t,
        with_k.value_added_yuan,
        with_k.carbon_intensity_t_per_10k_yuan,
        level_band.band_label as carbon_intensity_level,
        with_k.industry_avg_intensity_t_per_10k_yuan,
        with_k.carbon_efficiency_k,
        cast(grade_band.band_seq as integer) as carbon_efficiency_grade,
        with_k.missing_inputs
    from with_k
    left join enterprises
        on enterprises.credit_code = with_k.credit_code
    left join industries
        on industries.industry_class_code = with_k.industry_code
    left join bands as level_band
        on level_band.measure = 'carbon_intensity_level'
        and (level_band.lower_bound is null or with_k.carbon_intensity_t_per_10k_yuan > level_band.lower_bound)
        and (level_band.upper_bound is null or with_k.carbon_intensity_t_per_10k_yuan <= level_band.upper_bound)
    left join bands as grade_band
        on grade_band.measure = 'carbon_efficiency_grade'
        and (grade_band.lower_bound is null or with_k.carbon_efficiency_k > grade_band.lower_bound)
        and (grade_band.upper_bound is null or with_k.carbon_efficiency_k <= grade_band.upper_bound)

)

select * from final
