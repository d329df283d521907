-- Run health: every attempt of the period's run dates (failed and abandoned ones too), with
-- its duration and counts. With an outlet, the runs that wrote that outlet's articles.
-- Parameters: $since, $until (the run date), $outlet (NULL: no bound).
WITH attempts AS (
    SELECT
        r.*,
        row_number() OVER (PARTITION BY r.run_date ORDER BY r.started_at) AS attempt
    FROM runs AS r
)

SELECT
    run_date,
    attempt,
    run_id,
    status,
    started_at,
    finished_at,
    round(epoch(finished_at - started_at), 1) AS seconds,
    inputs,
    articles,
    reused_articles AS reused,
    rejects,
    removed_lines,
    quotes,
    len(warnings) AS warnings,
    error
FROM attempts
WHERE within_dates(run_date, $since, $until)
    AND wrote_outlet(run_date, $outlet)
ORDER BY run_date, attempt
