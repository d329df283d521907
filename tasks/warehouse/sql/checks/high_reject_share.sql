-- severity: warn
-- Runs that rejected more than half of their inputs: a feed that changed format, or a wrong
-- input folder. Recorded in `runs.warnings`; the run still commits.
SELECT DISTINCT run_id, inputs, rejects
FROM runs
WHERE status = 'succeeded'
    AND run_id IN (SELECT run_id FROM committed_attempts)
    AND inputs > 0
    AND rejects > inputs / 2
ORDER BY run_id
