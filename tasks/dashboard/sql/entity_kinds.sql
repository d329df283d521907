-- The most mentioned people, organisations and places of the period: the shipped report
-- `top_entities`, run with the page's filters and registered as `report_top_entities`,
-- cut to the first of each kind.
WITH kinds AS (
    SELECT
        CASE
            WHEN label = 'PERSON' THEN 'people'
            WHEN label = 'ORG' THEN 'organisations'
            WHEN label IN ('GPE', 'LOC', 'FAC') THEN 'places'
        END AS kind,
        entity,
        label,
        mentions,
        articles,
        outlets
    FROM report_top_entities
)

SELECT kind, entity, label, mentions, articles, outlets
FROM kinds
WHERE kind IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY kind ORDER BY mentions DESC, articles DESC, entity) <= 12
ORDER BY kind, mentions DESC, articles DESC, entity
