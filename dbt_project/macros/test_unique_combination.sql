{#- Generic test: the combination of columns is unique (dbt_utils is not installable here).
    On an incremental model, `changed_keys: ref('<change set>')` and `key: <its unique_key>` make a
    night count only the combinations its change set could have duplicated
    (macros/test_unique_changed.sql: rows_to_count, and why that is enough). -#}
{% test unique_combination(model, columns, changed_keys=none, key=none) %}
select {{ columns | join(', ') }}, count(*) as n
from ({{ rows_to_count(model, columns, changed_keys, key) }}) as checked
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
