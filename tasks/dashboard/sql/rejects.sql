-- Rejected inputs by reason and stage over the period's run dates, with an example.
-- Parameters: $since, $until (the run date), $outlet (run dates that wrote that outlet's
-- articles: a reject has no outlet).
SELECT
    reason,
    stage,
    count(*) AS inputs,
    count(DISTINCT run_date) AS run_dates,
    min(source_uri) AS example_input,
    min(detail) AS example_detail
FROM rejects
WHERE within_dates(run_date, $since, $until)
    AND wrote_outlet(run_date, $outlet)
GROUP BY ALL
ORDER BY inputs DESC, reason, stage
