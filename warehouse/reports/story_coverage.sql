-- Story coverage by outlet: how many articles each outlet published on each story, and when first.
WITH story_articles AS (
    SELECT story_id, run_date, coalesce(outlet, '(unknown)') AS outlet, published_at,
        duplicate_of IS NOT NULL AS is_duplicate
    FROM articles
),

by_outlet AS (
    SELECT
        story_id,
        run_date,
        outlet,
        count(*) AS articles,
        count(*) FILTER (WHERE is_duplicate) AS duplicates,
        min(published_at) AS first_published_at
    FROM story_articles
    GROUP BY story_id, run_date, outlet
)

SELECT
    o.story_id,
    s.title AS story_title,
    s.article_count AS story_articles,
    o.outlet,
    o.articles,
    o.duplicates,
    o.first_published_at
FROM by_outlet AS o
JOIN stories AS s USING (story_id, run_date)
ORDER BY s.article_count DESC, o.story_id, o.articles DESC, o.outlet
