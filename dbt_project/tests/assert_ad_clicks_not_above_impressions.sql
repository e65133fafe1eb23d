-- Platform reports never show more clicks than impressions for a campaign-day.
select * from {{ ref('fct_ad_spend') }} where clicks > impressions
