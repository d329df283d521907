-- Who is quoted, by outlet: the quotes of the period's most quoted speakers (the shipped
-- report `most_quoted_speakers`, registered as `report_most_quoted_speakers`) per outlet.
-- Parameters: $since, $until (the article's day), $outlet (NULL: no bound).
SELECT
    q.speaker,
    coalesce(a.outlet, '(unknown)') AS outlet,
    count(*) AS quotes,
    count(DISTINCT q.article_id) AS articles,
    any_value(r.quotes) AS speaker_quotes
FROM quotes AS q
JOIN articles AS a USING (article_id, run_date)
JOIN report_most_quoted_speakers AS r USING (speaker)
WHERE within_dates(article_day(a.published_date, a.run_date), $since, $until)
    AND of_outlet(a.outlet, $outlet)
GROUP BY ALL
ORDER BY speaker_quotes DESC, q.speaker, quotes DESC, outlet
