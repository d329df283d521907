-- Story coverage by outlet: how many articles each outlet published on each story, over all
-- run dates, and when first; with the run dates the story spans. Parameters: $since, $until
-- (the article's day), $outlet, $limit (NULL: no bound).
WITH story_articles AS (
    SELECT story_id, article_id, coalesce(outlet, '(unknown)') AS outlet, published_at,
        duplicate_of IS NOT NULL AS is_duplicate
    FROM articles
    WHERE within_dates(article_day(published_date, run_date), $since, $until)
        AND of_outlet(outlet, $outlet)
),

by_outlet AS (
    SELECT
        story_id,
        outlet,
        count(DISTINCT article_id) AS articles,
        count(DISTINCT article_id) FILTER (WHERE is_duplicate) AS duplicates,
        min(published_at) AS first_published_at
    FROM story_articles
    GROUP BY story_id, outlet
)

SELECT
    o.story_id,
    s.title AS story_title,
    s.article_count AS story_articles,
    o.outlet,
    o.articles,
    o.duplicates,
    o.first_published_at,
    s.first_run_date,
    s.last_run_date
FROM by_outlet AS o
-- A story spans run dates: `stories` has one row per story, whatever its dates.
JOIN stories AS s USING (story_id)
ORDER BY s.article_count DESC, o.story_id, o.articles DESC, o.outlet
LIMIT $limit
