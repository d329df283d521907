-- Top entities: the most mentioned entities over all run dates, with how many articles and
-- outlets mention them (`entity_summary` merges an entity's dates under one id and name).
WITH ranked AS (
    SELECT
        canonical_name AS entity,
        label,
        mention_count AS mentions,
        article_count AS articles,
        outlet_count AS outlets,
        first_run_date,
        last_run_date
    FROM entity_summary
)

SELECT entity, label, mentions, articles, outlets, first_run_date, last_run_date
FROM ranked
ORDER BY mentions DESC, articles DESC, entity
LIMIT 25
