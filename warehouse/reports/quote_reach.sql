-- Who said what, reported by how many outlets: one row per quote (the same words in several
-- articles share a quote_cluster_id, small wording changes allowed), most widely reported first.
WITH reported AS (
    SELECT q.quote_cluster_id, q.text, q.speaker, q.speaker_type, q.article_id, a.outlet
    FROM quotes AS q
    JOIN articles AS a USING (article_id, run_date)
    -- A two-word partial quote ("ethnic cleansing") recurs across unrelated stories; only
    -- statements, or partial quotes long enough to be one, are counted as quotes reported.
    WHERE NOT q.is_partial OR length(q.text) >= 20
),

clusters AS (
    SELECT
        quote_cluster_id,
        min_by(text, length(text)) AS quote,
        mode(speaker) AS speaker,
        mode(speaker_type) AS speaker_type,
        count(DISTINCT article_id) AS articles,
        count(DISTINCT outlet) AS outlets,
        list(DISTINCT outlet ORDER BY outlet) FILTER (WHERE outlet IS NOT NULL) AS outlet_names
    FROM reported
    GROUP BY quote_cluster_id
)

SELECT speaker, speaker_type, quote, articles, outlets, outlet_names
FROM clusters
ORDER BY articles DESC, outlets DESC, speaker NULLS LAST, quote
LIMIT 50
