-- severity: error
-- Entity mentions whose offsets do not cut their own text out of the article's body.
WITH located AS (
    SELECT m.article_id, m.entity_id, m.text, m.start_char, m.end_char, a.body
    FROM entity_mentions AS m
    LEFT JOIN articles AS a USING (article_id)
)

SELECT article_id, entity_id, text, start_char, end_char
FROM located
WHERE body IS NULL
    OR start_char < 0
    OR end_char > length(body)
    OR start_char >= end_char
    OR substring(body, start_char + 1, end_char - start_char) != text
ORDER BY article_id, start_char
