-- severity: error
-- Articles without text: the cleaner and normalizer reject these, so any row is a bug.
SELECT article_id, source_uri, word_count
FROM articles
WHERE body IS NULL OR trim(body) = '' OR word_count = 0
ORDER BY article_id
