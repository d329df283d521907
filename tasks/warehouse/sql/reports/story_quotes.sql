-- Who said what in each story: every quote with its speaker, grouped by story.
-- Parameters: $since, $until (the article's day), $outlet, $limit (NULL: no bound).
WITH story_articles AS (
    SELECT article_id, run_date, story_id, coalesce(outlet, source_uri) AS reported_by, published_at
    FROM articles
    WHERE duplicate_of IS NULL
        AND within_dates(article_day(published_date, run_date), $since, $until)
        AND of_outlet(outlet, $outlet)
),

story_titles AS (
    -- A story spans run dates: one title per story, whatever its dates.
    SELECT story_id, title AS story_title FROM stories
)

SELECT
    s.story_id,
    t.story_title,
    q.speaker,
    q.verb,
    q.text AS quote,
    q.is_partial,
    s.reported_by,
    s.published_at
FROM quotes AS q
JOIN story_articles AS s USING (article_id, run_date)
JOIN story_titles AS t USING (story_id)
ORDER BY s.story_id, q.speaker NULLS LAST, s.reported_by, q.start_char, q.quote_id
LIMIT $limit
