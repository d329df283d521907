-- The relations between articles (copy, excerpt, rewrite, same story): each link of an
-- article of the period, with both articles' outlet, day and title.
-- Parameters: $since, $until (the day of the article the link is stated for), $outlet (either
-- side's outlet), $limit (links; 200 when NULL).
WITH dated AS (
    SELECT
        article_id,
        run_date,
        story_id,
        coalesce(outlet, '(unknown)') AS outlet,
        outlet AS outlet_name,
        coalesce(title, source_uri) AS article_title,
        article_day(published_date, run_date) AS day
    FROM articles
),

linked AS (
    SELECT
        a.story_id,
        relation_label(l.relation) AS relation,
        relation_rank(l.relation) AS closeness,
        l.score,
        a.day,
        a.outlet,
        a.article_title,
        o.day AS other_day,
        o.outlet AS other_outlet,
        o.article_title AS other_title
    FROM article_links AS l
    JOIN dated AS a USING (article_id, run_date)
    JOIN dated AS o ON o.article_id = l.other_article_id AND o.run_date = l.other_run_date
    WHERE within_dates(a.day, $since, $until)
        AND (of_outlet(a.outlet_name, $outlet) OR of_outlet(o.outlet_name, $outlet))
)

SELECT
    s.title AS story_title,
    k.relation,
    k.score,
    k.day,
    k.outlet,
    k.article_title,
    k.other_day,
    k.other_outlet,
    k.other_title
FROM linked AS k
JOIN stories AS s USING (story_id)
ORDER BY k.closeness, k.score DESC, k.day, k.outlet, k.article_title
LIMIT coalesce($limit, 200)
