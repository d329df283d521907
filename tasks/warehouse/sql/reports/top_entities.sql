-- Top entities: the most mentioned entities in the period, with how many articles and
-- outlets mention them, named as over the whole warehouse (`entity_summary`).
-- Parameters: $since, $until (the article's day), $outlet, $limit (25 when NULL).
WITH mentioned AS (
    SELECT m.entity_id, m.article_id, a.outlet, a.run_date
    FROM entity_mentions AS m
    JOIN articles AS a USING (article_id, run_date)
    WHERE within_dates(article_day(a.published_date, a.run_date), $since, $until)
        AND of_outlet(a.outlet, $outlet)
),

counted AS (
    SELECT
        entity_id,
        count(*) AS mentions,
        count(DISTINCT article_id) AS articles,
        count(DISTINCT outlet) AS outlets,
        min(run_date) AS first_run_date,
        max(run_date) AS last_run_date
    FROM mentioned
    GROUP BY entity_id
)

SELECT
    s.canonical_name AS entity,
    s.label,
    c.mentions,
    c.articles,
    c.outlets,
    c.first_run_date,
    c.last_run_date
FROM counted AS c
JOIN entity_summary AS s USING (entity_id)
ORDER BY c.mentions DESC, c.articles DESC, entity
LIMIT coalesce($limit, 25)
