-- Top entities: the most mentioned canonical entities, with how many articles and outlets mention them.
WITH mentions AS (
    SELECT m.entity_id, m.article_id, m.run_date, a.outlet
    FROM entity_mentions AS m
    JOIN articles AS a USING (article_id, run_date)
),

names AS (
    -- An entity keeps its id across runs; take its name from the latest run.
    SELECT entity_id, arg_max(canonical_name, run_date) AS canonical_name, arg_max(label, run_date) AS label
    FROM entities
    GROUP BY entity_id
),

counted AS (
    SELECT
        entity_id,
        count(*) AS mentions,
        count(DISTINCT article_id) AS articles,
        count(DISTINCT outlet) AS outlets
    FROM mentions
    GROUP BY entity_id
)

SELECT n.canonical_name AS entity, n.label, c.mentions, c.articles, c.outlets
FROM counted AS c
JOIN names AS n USING (entity_id)
ORDER BY c.mentions DESC, c.articles DESC, n.canonical_name
LIMIT 25
