-- The outlets of the period, most articles first: one colour each on every page. An article
-- with no outlet is '(unknown)', as in the shipped reports.
-- Parameters: $since, $until (the article's day), $outlet (NULL: no bound).
SELECT coalesce(outlet, '(unknown)') AS outlet, count(DISTINCT article_id) AS articles
FROM articles
WHERE within_dates(article_day(published_date, run_date), $since, $until)
    AND of_outlet(outlet, $outlet)
GROUP BY ALL
ORDER BY articles DESC, outlet
