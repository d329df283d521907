-- Who said what, reported by how many outlets: one row per quote (the same words in several
-- articles share a quote_cluster_id, on any run date, small wording changes allowed), most
-- widely reported first; with the outlet that reported it first and those that picked it up
-- on a later run date. Parameters: $since, $until (the article's day), $outlet (quotes
-- reported in that outlet's articles; the other outlets that reported them still count),
-- $limit (50 when NULL).
WITH reported AS (
    SELECT q.quote_cluster_id, q.text, q.speaker, q.speaker_type, q.article_id, q.run_date,
        a.outlet, a.published_at
    FROM quotes AS q
    JOIN articles AS a USING (article_id, run_date)
    -- A two-word partial quote ("ethnic cleansing") recurs across unrelated stories: only
    -- statements, or partial quotes long enough to be one, are counted as quotes reported.
    WHERE (NOT q.is_partial OR length(q.text) >= 20)
        AND within_dates(article_day(a.published_date, a.run_date), $since, $until)
),

-- The outlet filter picks quotes, not articles: a quote the outlet reported keeps its reach.
picked AS (
    SELECT DISTINCT quote_cluster_id FROM reported WHERE of_outlet(outlet, $outlet)
),

clusters AS (
    SELECT
        quote_cluster_id,
        min_by(text, length(text)) AS quote,
        mode(speaker) AS speaker,
        mode(speaker_type) AS speaker_type,
        count(DISTINCT article_id) AS articles,
        count(DISTINCT outlet) AS outlets,
        list(DISTINCT outlet ORDER BY outlet) FILTER (WHERE outlet IS NOT NULL) AS outlet_names,
        min(published_at) AS first_published_at,
        min(run_date) AS first_run_date,
        -- The first outlet is one of its first run date, so never one of `later_outlets`.
        first(outlet ORDER BY run_date, published_at NULLS LAST, outlet)
            FILTER (WHERE outlet IS NOT NULL) AS first_outlet
    FROM reported
    SEMI JOIN picked USING (quote_cluster_id)
    GROUP BY quote_cluster_id
),

outlet_firsts AS (
    SELECT quote_cluster_id, outlet, min(run_date) AS first_run_date
    FROM reported
    WHERE outlet IS NOT NULL
    GROUP BY quote_cluster_id, outlet
),

later AS (
    SELECT
        o.quote_cluster_id,
        list(o.outlet ORDER BY o.outlet) FILTER (WHERE o.first_run_date > c.first_run_date)
            AS later_outlets
    FROM outlet_firsts AS o
    JOIN clusters AS c USING (quote_cluster_id)
    GROUP BY o.quote_cluster_id
)

SELECT
    c.speaker,
    c.speaker_type,
    c.quote,
    c.articles,
    c.outlets,
    c.outlet_names,
    c.first_published_at,
    c.first_run_date,
    c.first_outlet,
    coalesce(l.later_outlets, CAST([] AS VARCHAR[])) AS later_outlets
FROM clusters AS c
LEFT JOIN later AS l USING (quote_cluster_id)
ORDER BY c.articles DESC, c.outlets DESC, c.speaker NULLS LAST, c.quote
LIMIT coalesce($limit, 50)
