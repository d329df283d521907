-- The headline numbers of the index page: what the period holds.
-- Parameters: $since, $until (the article's day), $outlet (NULL: no bound).
WITH picked AS (
    SELECT article_id, run_date, story_id, outlet
    FROM articles
    WHERE within_dates(article_day(published_date, run_date), $since, $until)
        AND of_outlet(outlet, $outlet)
),

quoted AS (
    SELECT count(*) AS quotes
    FROM quotes
    SEMI JOIN picked USING (article_id, run_date)
),

mentioned AS (
    SELECT count(DISTINCT entity_id) AS entities
    FROM entity_mentions
    SEMI JOIN picked USING (article_id, run_date)
),

removed AS (
    SELECT count(*) AS removed_lines
    FROM removed_lines
    SEMI JOIN picked USING (article_id, run_date)
)

SELECT
    count(DISTINCT p.article_id) AS articles,
    count(DISTINCT p.outlet) AS outlets,
    count(DISTINCT p.story_id) AS stories,
    any_value(q.quotes) AS quotes,
    any_value(m.entities) AS entities,
    any_value(r.removed_lines) AS removed_lines,
    min(p.run_date) AS first_run_date,
    max(p.run_date) AS last_run_date
FROM picked AS p, quoted AS q, mentioned AS m, removed AS r
