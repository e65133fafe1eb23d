-- DESIGN invariant: funnel counts never increase from one stage to the next.
{{ funnel_increases('mart_stage_funnel') }}
