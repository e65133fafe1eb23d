{#- Uniqueness tests that a night runs where the night could have broken uniqueness.

    An incremental model here (macros/incremental.sql) is keyed by a change set: a build replaces
    exactly the rows of the change set's keys (replace_changed), in a warehouse whose every row
    passed these tests when it was published. So a duplicate can only involve a row of a changed
    key: the tests take the values of those rows and count them over the whole table; the rest is
    not grouped again. At 100 M touchpoints the full counts took 4 to 20 s of node time each
    (the two touchpoint_id tests 9.7 s of a 9.3 M night).

    The whole table is checked on --full-refresh, whenever the change set is empty (a whole build
    computes none, and a night that changed nothing loses little), and when no change set is given.
    The change-set rows are matched on equality, so a combination holding a null is counted only
    in those whole checks (the columns tested so are never null).
    Not covered: a model built whole without --full-refresh beside a change set an earlier build
    left (a new model built alone by hand); the pipeline rebuilds everything, with --full-refresh,
    whenever the project changed (orchestration/builds.py). -#}

{#- The rows whose `columns` a test counts: every row, or (incremental build with a change set) the
    rows holding a combination that some row of a changed `key` holds. -#}
{% macro rows_to_count(model, columns, changed_keys=none, key=none) -%}
    {%- set selected = columns | join(', ') -%}
    {%- if changed_keys is none or flags.FULL_REFRESH -%}
    select {{ selected }} from {{ model }}
    {%- else -%}
    select {{ selected }} from {{ model }}
    where not exists (select 1 from {{ changed_keys }})

    union all

    {% if key in columns -%}
    {#- rows of other keys cannot hold the same combination -#}
    select {{ selected }} from {{ model }}
    semi join (select {{ key }} from {{ changed_keys }}) as changed using ({{ key }})
    {%- else -%}
    select {{ selected }} from {{ model }}
    semi join (
        select distinct {{ selected }} from {{ model }}
        semi join (select {{ key }} from {{ changed_keys }}) as changed using ({{ key }})
    ) as changed_combinations using ({{ selected }})
    {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- `- unique_changed: {arguments: {changed_keys: "ref('inc_changed_touchpoints')"}}` on a column
    of an incremental model (or of a view of one) with that change set; `key: <its unique_key>`
    when that is another column. Nulls are not counted, as in dbt's unique. -#}
{% test unique_changed(model, column_name, changed_keys, key=none) %}
select {{ column_name }}, count(*) as n
from ({{ rows_to_count(model, [column_name], changed_keys, key or column_name) }}) as checked
where {{ column_name }} is not null
group by {{ column_name }}
having count(*) > 1
{% endtest %}
