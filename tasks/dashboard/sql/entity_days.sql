-- How the mentions of the period's most mentioned entities move day by day: one row per
-- entity and day (the article's day), a day without a mention as zero. The ranking is the
-- shipped report `top_entities`, registered as `report_top_entities`.
-- Parameters: $since, $until (the article's day), $outlet, $limit (entities; 8 when NULL).
WITH top AS (
    SELECT entity, label
    FROM report_top_entities
    ORDER BY mentions DESC, articles DESC, entity
    LIMIT coalesce($limit, 8)
),

-- The report names an entity as `entity_summary` does: its id is found back by name and label.
top_ids AS (
    SELECT s.entity_id, t.entity, t.label
    FROM top AS t
    JOIN entity_summary AS s ON s.canonical_name = t.entity AND s.label = t.label
),

mentioned AS (
    SELECT m.entity_id, m.article_id, article_day(a.published_date, a.run_date) AS day
    FROM entity_mentions AS m
    JOIN articles AS a USING (article_id, run_date)
    WHERE within_dates(article_day(a.published_date, a.run_date), $since, $until)
        AND of_outlet(a.outlet, $outlet)
),

-- Every day from the first mention to the last: a quiet day is a zero on the line, not a gap
-- the line would jump over.
days AS (
    SELECT CAST(unnest(generate_series(min(day), max(day), INTERVAL 1 DAY)) AS DATE) AS day
    FROM mentioned
),

counted AS (
    SELECT entity_id, day, count(*) AS mentions, count(DISTINCT article_id) AS articles
    FROM mentioned
    SEMI JOIN top_ids USING (entity_id)
    GROUP BY entity_id, day
)

SELECT
    t.entity,
    t.label,
    d.day,
    coalesce(c.mentions, 0) AS mentions,
    coalesce(c.articles, 0) AS articles
FROM top_ids AS t
CROSS JOIN days AS d
LEFT JOIN counted AS c ON c.entity_id = t.entity_id AND c.day = d.day
ORDER BY t.entity, d.day
