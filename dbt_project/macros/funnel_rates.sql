{#- Funnel counts and rates from int_funnel_person_stages, per entry period and breakdown.
    breakdowns: list of (name, SQL expression over int_funnel_person_stages columns). -#}
{% macro funnel_rates(period, breakdowns) %}
with person_stages as (
    select * from {{ ref('int_funnel_person_stages') }}
),

broken_down as (
    {%- for name, expression in breakdowns %}
    select
        {{ dbt.date_trunc(period, 'entry_at') }} as entry_period,
        '{{ name }}' as breakdown,
        {{ expression }} as breakdown_value,
        journey_stage,
        stage_order,
        person_key,
        hours_from_entry
    from person_stages
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

aggregated as (
    select
        entry_period,
        breakdown,
        breakdown_value,
        journey_stage,
        stage_order,
        count(*) as people_entered,
        count(hours_from_entry) as people_reached,
        {{ median('hours_from_entry') }} as median_hours_from_entry,
        {{ exact_avg('hours_from_entry') }} as mean_hours_from_entry
    from broken_down
    group by entry_period, breakdown, breakdown_value, journey_stage, stage_order
),

with_previous as (
    select
        aggregated.*,
        coalesce(
            lag(people_reached) over (
                partition by entry_period, breakdown, breakdown_value order by stage_order
            ),
            people_entered
        ) as people_at_previous_stage
    from aggregated
),

final as (
    select
        entry_period,
        breakdown,
        breakdown_value,
        journey_stage,
        stage_order,
        people_entered,
        people_reached,
        people_at_previous_stage - people_reached as drop_off,
        case
            when people_at_previous_stage > 0 then people_reached * {{ double_literal('1.0') }} / people_at_previous_stage
        end as conversion_from_previous,
        people_reached * {{ double_literal('1.0') }} / people_entered as conversion_from_entry,
        median_hours_from_entry,
        mean_hours_from_entry
    from with_previous
)

select * from final
{% endmacro %}
