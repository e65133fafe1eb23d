-- depends_on: {{ ref('int_currency_rates') }}
-- The spend ids whose row in int_ad_spend_deduplicated and fct_ad_spend this build recomputes:
-- delivered in a changed file, first delivered (as the warehouse holds it) in a changed file or
-- a file version no longer in the lake, or converted at another rate now (seeds/currency_rates.csv
-- changed). Empty on a full refresh or a first build.
{%- set previous = previous_relation('int_ad_spend_deduplicated') %}
{%- set previous_fct = previous_relation('fct_ad_spend') %}
with lake_files as (
    select source_file, batch_id from {{ ref('inc_lake_file_versions') }} where lake_table = 'ad_spend'
),

changed_files as (
    select source_file from {{ ref('inc_changed_files') }} where lake_table = 'ad_spend'
),

delivered as (
    select spend_id, 'delivered in a changed file' as reason
    from {{ ref('stg_lake__ad_spend') }}
    semi join changed_files using (source_file)
)
{%- if previous is not none %},

first_delivery_moved as (
    select previous.spend_id, 'first delivery changed or gone' as reason
    from {{ previous }} as previous
    anti join lake_files using (source_file, batch_id)

    union all

    select previous.spend_id, 'first delivery changed or gone' as reason
    from {{ previous }} as previous
    semi join changed_files using (source_file)
)
{%- endif %}
{%- if previous_fct is not none %},

rates as (
    select * from {{ ref('int_currency_rates') }}
),

rate_changed as (
    select previous.spend_id, 'converted at another rate' as reason
    from {{ previous_fct }} as previous
    left join rates on {{ currency_rate_match('rates', 'previous.currency', 'previous.spend_date') }}
    where previous.spend_reporting is distinct from previous.spend * rates.reporting_per_unit
)
{%- endif %}

select spend_id, min(reason) as reason
from (
    select * from delivered
    {%- if previous is not none %}
    union all select * from first_delivery_moved
    {%- endif %}
    {%- if previous_fct is not none %}
    union all select * from rate_changed
    {%- endif %}
)
group by spend_id
