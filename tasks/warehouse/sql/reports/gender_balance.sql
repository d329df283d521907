-- Gender balance of the people quoted: for each outlet and month, the distinct named people
-- its articles quote, by gender, the share of women among those whose gender is known (the
-- GenderGapTracker's measure), and the same for quotes. A person's gender is the one the
-- warehouse gives them over all dates (`entity_summary.gender`): unknown stays unknown.
-- Parameters: $since, $until (the article's day), $outlet, $limit (NULL: no bound).
WITH quoted AS (
    SELECT
        coalesce(a.outlet, '(unknown)') AS outlet,
        CAST(date_trunc('month', article_day(a.published_date, a.run_date)) AS DATE) AS month,
        q.speaker_entity_id AS person,
        coalesce(s.gender, 'unknown') AS gender,
        q.quote_id
    FROM quotes AS q
    JOIN articles AS a USING (article_id, run_date)
    LEFT JOIN entity_summary AS s ON s.entity_id = q.speaker_entity_id
    WHERE q.speaker_type = 'person' AND q.speaker_entity_id IS NOT NULL
        AND within_dates(article_day(a.published_date, a.run_date), $since, $until)
        AND of_outlet(a.outlet, $outlet)
),

counted AS (
    SELECT
        outlet,
        month,
        count(DISTINCT person) AS people,
        count(DISTINCT person) FILTER (WHERE gender = 'female') AS women,
        count(DISTINCT person) FILTER (WHERE gender = 'male') AS men,
        count(DISTINCT person) FILTER (WHERE gender = 'unknown') AS unknown_gender,
        count(*) AS quotes,
        count(*) FILTER (WHERE gender = 'female') AS quotes_of_women,
        count(*) FILTER (WHERE gender = 'male') AS quotes_of_men
    FROM quoted
    GROUP BY outlet, month
)

SELECT
    outlet,
    month,
    people,
    women,
    men,
    unknown_gender,
    round(women / nullif(women + men, 0), 3) AS share_women,
    quotes,
    quotes_of_women,
    quotes_of_men,
    round(quotes_of_women / nullif(quotes_of_women + quotes_of_men, 0), 3)
        AS share_quotes_of_women
FROM counted
ORDER BY outlet, month
LIMIT $limit
