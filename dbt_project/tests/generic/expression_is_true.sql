{#- Every row satisfies `expression` (a SQL predicate over the model's columns); returns the rows that do not.
    On a column, the expression may omit it: `expression: ">= 0"` reads as "<column> >= 0". -#}
{% test expression_is_true(model, expression, column_name=None) %}
select *
from {{ model }}
where not ({{ column_name ~ ' ' if column_name and not expression.startswith(column_name) else '' }}{{ expression }})
{% endtest %}
