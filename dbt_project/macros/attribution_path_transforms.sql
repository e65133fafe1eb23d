{#- Path transforms (var attribution_path_transforms), applied in order to a relation of
    (journey_id, touchpoint_id, channel, step_position) where the touchpoints of one step share
    step_position. Each returns the same columns: touchpoints dropped or steps merged, positions
    renumbered 1..n. A transform never empties a path that had a step. -#}

{%- macro channel_list(channels) -%}
({% for channel in channels %}'{{ channel }}'{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}

{%- macro attribution_transform(name, argument, relation) %}
{%- if name == 'unique' %}
    {#- no change: every touchpoint is a step #}
    select journey_id, touchpoint_id, channel, step_position from {{ relation }}
{%- elif name in ('exposure', 'frequency') %}
    {#- consecutive steps of one channel become one step (frequency only labels it with the count) #}
    select touches.journey_id, touches.touchpoint_id, touches.channel, runs.run_position as step_position
    from {{ relation }} as touches
    inner join (
        select
            journey_id,
            step_position,
            sum(starts_run) over (
                partition by journey_id order by step_position rows unbounded preceding
            ) as run_position
        from (
            select
                journey_id,
                step_position,
                case
                    when channel = lag(channel) over (partition by journey_id order by step_position) then 0
                    else 1
                end as starts_run
            from (select distinct journey_id, step_position, channel from {{ relation }})
        )
    ) as runs on touches.journey_id = runs.journey_id and touches.step_position = runs.step_position
{%- elif name == 'first' %}
    {#- only the first step of each channel #}
    select
        journey_id, touchpoint_id, channel,
        dense_rank() over (partition by journey_id order by step_position) as step_position
    from (
        select *, min(step_position) over (partition by journey_id, channel) as first_position
        from {{ relation }}
    )
    where step_position = first_position
{%- elif name == 'remove_if_not_all' %}
    {#- drop the listed channels unless the path has nothing else #}
    select
        journey_id, touchpoint_id, channel,
        dense_rank() over (partition by journey_id order by step_position) as step_position
    from (
        select *, bool_or(channel not in {{ channel_list(argument) }}) over (partition by journey_id) as has_other
        from {{ relation }}
    )
    where channel not in {{ channel_list(argument) }} or not has_other
{%- elif name == 'remove_if_last_and_not_all' %}
    {#- drop the trailing steps of the listed channels unless the path has nothing else #}
    select journey_id, touchpoint_id, channel, step_position
    from (
        select
            *,
            max(case when channel not in {{ channel_list(argument) }} then step_position end)
                over (partition by journey_id) as last_other_position
        from {{ relation }}
    )
    where last_other_position is null or step_position <= last_other_position
{%- elif name == 'trim_last_n' %}
    {#- keep the last N steps #}
    select journey_id, touchpoint_id, channel, step_position - greatest(step_count - {{ argument }}, 0) as step_position
    from (
        select *, max(step_position) over (partition by journey_id) as step_count
        from {{ relation }}
    )
    where step_position > step_count - {{ argument }}
{%- else %}
    {{ exceptions.raise_compiler_error(
        "var attribution_path_transforms: unknown transform '" ~ name ~ "' (expected unique, exposure, first, "
        ~ "frequency, remove_if_not_all, remove_if_last_and_not_all or trim_last_n)") }}
{%- endif %}
{%- endmacro %}

{#- The configured transforms as (name, argument) pairs, validated. -#}
{%- macro attribution_transforms() %}
{%- set pairs = [] %}
{%- for item in var('attribution_path_transforms') %}
    {%- if item is mapping %}
        {%- for name, argument in item.items() %}{% do pairs.append((name, argument)) %}{% endfor %}
    {%- else %}
        {%- do pairs.append((item, none)) %}
    {%- endif %}
{%- endfor %}
{%- for name, argument in pairs %}
    {%- if name in ('remove_if_not_all', 'remove_if_last_and_not_all') and (argument is none or argument is string or argument | length == 0) %}
        {{ exceptions.raise_compiler_error("var attribution_path_transforms: " ~ name ~ " needs a list of channels, e.g. {" ~ name ~ ": [direct]}") }}
    {%- elif name == 'trim_last_n' and (argument is not number or argument < 1) %}
        {{ exceptions.raise_compiler_error("var attribution_path_transforms: trim_last_n needs a whole number of steps >= 1, e.g. {trim_last_n: 5}") }}
    {%- endif %}
{%- endfor %}
{{ return(pairs) }}
{%- endmacro %}
