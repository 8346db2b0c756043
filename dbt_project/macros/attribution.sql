{#- A loan's share of its project's environmental benefit, the PBoC's rule for green-loan benefits and the
    carbon-reduction facility (domain-methods.md [C]): attributed = project benefit × loan ÷ total project investment.
    The share is capped at 1: a loan larger than its project cannot carry more than the project's benefit.
    Both are null when the investment is missing or not positive (the caller names the gap in missing_inputs). -#}

{% macro attribution_share(loan, investment) -%}
    case
        when {{ investment }} is null or {{ investment }} <= 0 then null
        when {{ loan }} >= {{ investment }} then cast(1 as decimal(9, 6))
        else cast({{ exact_ratio(loan, investment, 6) }} as decimal(9, 6))
    end
{%- endmacro %}

{#- The benefit attributed to the loan, exact to 4 places (half up); null when the benefit is null. -#}
{% macro attributed_benefit(benefit, loan, investment) -%}
    case
        when {{ investment }} is null or {{ investment }} <= 0 or {{ benefit }} is null then null
        when {{ loan }} >= {{ investment }} then cast({{ benefit }} as decimal(18, 4))
        else cast({{ exact_ratio(
                'cast(cast(' ~ benefit ~ ' as decimal(38, 4)) * cast(' ~ loan ~ ' as decimal(38, 2)) as decimal(38, 6))',
                investment, 4) }} as decimal(18, 4))
    end
{%- endmacro %}
