{#- The green-identification scorecard's shared expressions (enterprises and projects are scored alike). -#}

{#- Over a group's scored criteria (criterion_code, criterion_seq, points_awarded, evidence): the evidence text,
    "<criterion> +<points>: <evidence>" in criterion order, "missing" for a criterion whose input is missing. -#}
{% macro scorecard_evidence() -%}
    {{ ordered_listagg(
        dbt.concat([
            'criterion_code', "' '",
            "case when points_awarded is null then 'missing' else "
                ~ dbt.concat(["'+'", "cast(points_awarded as " ~ dbt.type_string() ~ ")"]) ~ " end",
            "': '", 'evidence']),
        "'; '", 'criterion_seq') }}
{%- endmacro %}

{#- The best level a number of points reaches, against the levels seed cross-joined as `levels` (level_seq 1 has
    the highest min_points). -#}
{% macro scorecard_level_seq(points) -%}
    min(case when levels.min_points <= {{ points }} then levels.level_seq end)
{%- endmacro %}
