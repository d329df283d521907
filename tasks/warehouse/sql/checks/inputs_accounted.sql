-- severity: error
-- Committed runs that lost track of an input: every input is an article or a reject.
WITH committed_runs AS (
    SELECT DISTINCT run_id, inputs, articles, rejects
    FROM runs
    WHERE status = 'succeeded' AND run_id IN (SELECT run_id FROM committed_attempts)
),

written AS (
    SELECT run_id, count(*) AS written_rows
    FROM (SELECT run_id FROM articles UNION ALL SELECT run_id FROM rejects)
    GROUP BY run_id
)

SELECT r.run_id, r.inputs, r.articles, r.rejects, coalesce(w.written_rows, 0) AS written_rows
FROM committed_runs AS r
LEFT JOIN written AS w USING (run_id)
WHERE r.inputs != r.articles + r.rejects OR r.inputs != coalesce(w.written_rows, 0)
ORDER BY r.run_id
