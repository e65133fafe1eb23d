{#- var attribution_models, as the attribution marts compute them. On Spark without markov: its
    removal effects come from the python model mart_attribution_markov, and dbt-spark runs python
    models only on Databricks clusters, not in a local session (dbt-spark issue 415), so
    dbt_project.yml disables that model on the spark target (README "On Spark"). -#}
{% macro attribution_models() -%}
    {%- set models = var('attribution_models') -%}
    {%- if target.type == 'spark' and 'markov' in models -%}
        {%- if execute and model is defined and model.resource_type == 'model' -%}
            {%- do log(model.name ~ ": attribution model markov left out on Spark (mart_attribution_markov is a python model)", info=true) -%}
        {%- endif -%}
        {{ return(models | reject('equalto', 'markov') | list) }}
    {%- endif -%}
    {{ return(models) }}
{%- endmacro %}
