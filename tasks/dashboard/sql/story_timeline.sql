-- Stories over time: the articles of the stories most covered in the period, one row per
-- article, with its day and how it relates to an earlier article of its story.
-- Parameters: $since, $until (the article's day), $outlet, $limit (stories; 20 when NULL).
WITH picked AS (
    SELECT
        article_id,
        run_date,
        story_id,
        coalesce(outlet, '(unknown)') AS outlet,
        coalesce(title, source_uri) AS article_title,
        article_day(published_date, run_date) AS day,
        published_date IS NULL AS undated
    FROM articles
    WHERE within_dates(article_day(published_date, run_date), $since, $until)
        AND of_outlet(outlet, $outlet)
),

-- Stories with most articles in the period first, then the latest.
ranked AS (
    SELECT
        story_id,
        count(DISTINCT article_id) AS story_articles,
        min(day) AS first_day,
        max(day) AS last_day
    FROM picked
    GROUP BY story_id
    ORDER BY story_articles DESC, last_day DESC, story_id
    LIMIT coalesce($limit, 20)
),

-- An article's closest relation to another article: a copy says more than a rewrite.
-- `same_story` is left out: it is what puts the article in the story in the first place.
relations AS (
    SELECT article_id, run_date, arg_min(relation, relation_rank(relation)) AS closest
    FROM article_links
    WHERE relation <> 'same_story'
    GROUP BY article_id, run_date
)

SELECT
    r.story_id,
    s.title AS story_title,
    r.story_articles,
    r.first_day,
    r.last_day,
    p.article_id,
    p.article_title,
    p.outlet,
    p.day,
    p.undated,
    coalesce(relation_label(l.closest), 'own text') AS relation
FROM picked AS p
JOIN ranked AS r USING (story_id)
JOIN stories AS s USING (story_id)
LEFT JOIN relations AS l USING (article_id, run_date)
ORDER BY r.first_day, r.story_articles DESC, r.story_id, p.day, p.outlet, p.article_id
