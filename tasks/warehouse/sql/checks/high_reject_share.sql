-- severity: warn
-- Runs that rejected more than half of their inputs: a feed that changed format, or a wrong
-- input folder. A page unchanged since an earlier date fetched it (`not_modified`) is no
-- rejected input: a daily run of a feed sees most of its pages again. Recorded in
-- `runs.warnings`; the run still commits.
WITH unchanged AS (
    SELECT run_id, count(*) AS pages
    FROM rejects
    WHERE reason = 'not_modified'
    GROUP BY run_id
)

SELECT DISTINCT r.run_id, r.inputs, r.rejects
FROM runs AS r
LEFT JOIN unchanged AS u ON u.run_id = r.run_id
WHERE r.status = 'succeeded'
    AND r.run_id IN (SELECT run_id FROM committed_attempts)
    AND r.inputs > coalesce(u.pages, 0)
    AND r.rejects - coalesce(u.pages, 0) > (r.inputs - coalesce(u.pages, 0)) / 2
ORDER BY r.run_id
