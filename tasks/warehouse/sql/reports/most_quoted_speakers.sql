-- Most-quoted speakers: who is quoted most often, in how many articles and outlets.
-- Parameters: $since, $until (the article's day), $outlet, $limit (25 when NULL).
WITH quoted AS (
    SELECT q.speaker, q.speaker_entity_id, q.article_id, a.outlet
    FROM quotes AS q
    JOIN articles AS a USING (article_id, run_date)
    WHERE q.speaker IS NOT NULL
        AND within_dates(article_day(a.published_date, a.run_date), $since, $until)
        AND of_outlet(a.outlet, $outlet)
),

counted AS (
    SELECT
        speaker,
        any_value(speaker_entity_id) AS speaker_entity_id,
        count(*) AS quotes,
        count(DISTINCT article_id) AS articles,
        count(DISTINCT outlet) AS outlets
    FROM quoted
    GROUP BY speaker
)

SELECT speaker, speaker_entity_id IS NOT NULL AS resolved, quotes, articles, outlets
FROM counted
ORDER BY quotes DESC, articles DESC, speaker
LIMIT coalesce($limit, 25)
