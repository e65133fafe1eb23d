-- NPS and CSAT by period and breakdown. Definitions in _marts__models.yml.
{%- set period = var('survey_period') %}
{%- set breakdowns = [
    ('all', "'all'"),
    ('touchpoint_asked', "coalesce(touchpoint_asked, '(none)')"),
    ('journey_stage', "coalesce(stage_at_response, '(none)')"),
    ('last_touch_channel', "coalesce(last_touch_channel, '(none)')"),
    ('acquisition_channel', "coalesce(acquisition_channel, '(none)')"),
] %}

-- the answers with their respondent's journey up to them (int_survey_answers, kept per person)
with answers as (
    select * from {{ ref('int_survey_answers') }}
),

people as (
    select person_key, acquisition_channel from {{ ref('dim_people') }}
),

enriched as (
    select
        answers.*,
        {{ dbt.date_trunc(period, 'answers.occurred_at') }} as response_period,
        people.acquisition_channel
    from answers
    left join people on answers.person_key = people.person_key
),

broken_down as (
    {%- for name, expression in breakdowns %}
    select '{{ name }}' as breakdown, {{ expression }} as breakdown_value, enriched.*
    from enriched
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

aggregated as (
    select
        response_period,
        score_scale,
        breakdown,
        breakdown_value,
        count(*) as responses,
        avg(score) as mean_score,
        sum(case when score >= 9 then 1 else 0 end) as nps_promoters,
        sum(case when score >= 7 and score < 9 then 1 else 0 end) as nps_passives,
        sum(case when score <= 6 then 1 else 0 end) as nps_detractors,
        sum(case when score >= 4 then 1 else 0 end) as csat_satisfied
    from broken_down
    group by response_period, score_scale, breakdown, breakdown_value
),

final as (
    select
        response_period,
        score_scale,
        breakdown,
        breakdown_value,
        responses,
        mean_score,
        case when score_scale = 'nps_0_10' then nps_promoters end as promoters,
        case when score_scale = 'nps_0_10' then nps_passives end as passives,
        case when score_scale = 'nps_0_10' then nps_detractors end as detractors,
        case when score_scale = 'nps_0_10' then {{ double_literal('100.0') }} * (nps_promoters - nps_detractors) / responses end as nps,
        case when score_scale = 'csat_1_5' then csat_satisfied end as satisfied,
        case when score_scale = 'csat_1_5' then {{ double_literal('100.0') }} * csat_satisfied / responses end as csat
    from aggregated
)

select * from final
