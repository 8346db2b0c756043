{#- Standard normal cumulative distribution N(x), for the Merton PD of the climate stress test.
    Abramowitz, M. and Stegun, I. A. (1964), Handbook of Mathematical Functions, formula 26.2.17:
      for z >= 0: N(z) = 1 - phi(z) * (b1 t + b2 t^2 + b3 t^3 + b4 t^4 + b5 t^5) + e(z), t = 1 / (1 + p z),
      phi(z) = exp(-z^2 / 2) / sqrt(2 pi), |e(z)| < 7.5e-8,
      p = 0.2316419, b1 = 0.319381530, b2 = -0.356563782, b3 = 1.781477937, b4 = -1.821255978, b5 = 1.330274429;
    for x < 0, N(x) = 1 - N(-x) (symmetry). Portable SQL: exp, sqrt and abs only, in DOUBLE; null in, null out.
    `x` is a column or simple expression (it is repeated in the result). Checked against known values by
    tests/assert_climate_normal_cdf_known_values.sql. -#}
{% macro normal_cdf(x) -%}
    {%- set z = "abs(cast(" ~ x ~ " as double))" -%}
    {%- set t = "(1.0 / (1.0 + 0.2316419 * " ~ z ~ "))" -%}
    {%- set tail = "(exp(-(" ~ z ~ " * " ~ z ~ ") / 2.0) / sqrt(2.0 * 3.141592653589793)"
                  ~ " * " ~ t ~ " * (0.319381530 + " ~ t ~ " * (-0.356563782 + " ~ t ~ " * (1.781477937 + "
                  ~ t ~ " * (-1.821255978 + " ~ t ~ " * 1.330274429)))))" -%}
    (case when {{ x }} is null then null
          when {{ x }} >= 0 then 1.0 - {{ tail }}
          else {{ tail }}
     end)
{%- endmacro %}
