-- The warnings of the period's runs: one row per warning of an attempt.
-- Parameters: $since, $until (the run date), $outlet (run dates that wrote that outlet's
-- articles: a warning is the run's).
SELECT run_date, run_id, status, warning
FROM run_warnings
WHERE warning IS NOT NULL
    AND within_dates(run_date, $since, $until)
    AND wrote_outlet(run_date, $outlet)
ORDER BY run_date, run_id, warning_index
