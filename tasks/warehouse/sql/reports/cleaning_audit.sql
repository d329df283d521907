-- Cleaning audit: how many lines each rule removed, per outlet, with an example line.
-- Parameters: $since, $until (the article's day), $outlet, $limit (NULL: no bound).
WITH removed AS (
    SELECT coalesce(a.outlet, '(unknown)') AS outlet, r.reason, r.text, r.article_id
    FROM removed_lines AS r
    JOIN articles AS a USING (article_id, run_date)
    WHERE within_dates(article_day(a.published_date, a.run_date), $since, $until)
        AND of_outlet(a.outlet, $outlet)
),

by_rule AS (
    SELECT
        outlet,
        reason,
        count(*) AS lines,
        count(DISTINCT article_id) AS articles,
        min(text) AS example
    FROM removed
    GROUP BY outlet, reason
)

SELECT outlet, reason, lines, articles, example
FROM by_rule
ORDER BY outlet, lines DESC, reason
LIMIT $limit
