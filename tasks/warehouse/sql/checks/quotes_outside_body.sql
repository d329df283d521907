-- severity: error
-- Quotes whose offsets do not index their article's body: a range outside the body, an empty
-- range, a part (span) outside the quote's range, or a quote of an article not written.
WITH quote_ranges AS (
    SELECT q.quote_id, q.article_id, q.start_char, q.end_char, q.spans, length(a.body) AS body_length
    FROM quotes AS q
    LEFT JOIN articles AS a USING (article_id)
),

spans AS (
    SELECT quote_id, unnest(spans) AS span FROM quote_ranges
),

bad_spans AS (
    SELECT DISTINCT s.quote_id
    FROM spans AS s
    JOIN quote_ranges AS q USING (quote_id)
    WHERE s.span.start_char < q.start_char OR s.span.end_char > q.end_char
        OR s.span.start_char >= s.span.end_char
)

SELECT quote_id, article_id, start_char, end_char, body_length
FROM quote_ranges
WHERE body_length IS NULL
    OR start_char < 0
    OR end_char > body_length
    OR start_char >= end_char
    OR quote_id IN (SELECT quote_id FROM bad_spans)
ORDER BY article_id, start_char
