-- Rates with validity ranges, expressed in the reporting currency (var reporting_currency).
{%- set reporting = var('reporting_currency') %}
with rates as (
    select * from {{ ref('currency_rates') }}
),

reporting as (
    select valid_from, usd_per_unit as reporting_usd_per_unit,
        lead(valid_from) over (order by valid_from) as valid_to
    from rates
    where currency = '{{ reporting }}'
),

ranged as (
    select
        currency,
        valid_from,
        lead(valid_from) over (partition by currency order by valid_from) as valid_to,
        usd_per_unit
    from rates
),

final as (
    -- split each range where the reporting currency's own rate changes
    select
        ranged.currency,
        greatest(ranged.valid_from, reporting.valid_from) as valid_from,
        case
            when ranged.valid_to is null then reporting.valid_to
            when reporting.valid_to is null then ranged.valid_to
            else least(ranged.valid_to, reporting.valid_to)
        end as valid_to,
        ranged.usd_per_unit / reporting.reporting_usd_per_unit as reporting_per_unit
    from ranged
    inner join reporting
        on ranged.valid_from < coalesce(reporting.valid_to, cast('9999-12-31' as date))
        and reporting.valid_from < coalesce(ranged.valid_to, cast('9999-12-31' as date))
)

select * from final
