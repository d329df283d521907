-- Views over the Parquet warehouse. This is the only SQL that knows file paths:
-- reports and ad-hoc queries read these views. No path is stored: the views find the
-- warehouse folder when a query runs, so a copied or moved warehouse reads its own files.

-- Where the warehouse is: the variable `newsetl_warehouse` when the session sets it (newsetl
-- does; so must a session that ATTACHes newsetl.duckdb), else the folder of newsetl.duckdb
-- when it is the session's database (`duckdb warehouse/newsetl.duckdb`: DuckDB's default
-- temp_directory is '<database file>.tmp'), else '' (paths relative to the working folder).
CREATE OR REPLACE MACRO warehouse_dir() AS coalesce(
    getvariable('newsetl_warehouse'),
    CASE WHEN parse_filename(current_setting('temp_directory')) = 'newsetl.duckdb.tmp'
        THEN parse_dirpath(current_setting('temp_directory')) END,
    '');

-- The warehouse folder as the start of a glob: its glob characters matched literally as `[c]`.
CREATE OR REPLACE MACRO warehouse_glob() AS
CASE WHEN warehouse_dir() = '' THEN ''
    ELSE regexp_replace(warehouse_dir(), '([\[*?])', '[\1]', 'g') || '/' END;

-- A file's run date, from its own `run_date=` folder only: a `key=value` folder further up
-- (a copy under /data/env=prod/) is no column of any view, so Hive partitioning stays off.
CREATE OR REPLACE MACRO file_run_date(path) AS
regexp_extract(path, 'run_date=([0-9-]+)[/\\][^/\\]*$', 1)::DATE;

-- Every file of a table: its run date, union_by_name so partitions written before a column
-- was added still read, and the file name, which names the run attempt.
CREATE OR REPLACE MACRO warehouse_files(name) AS TABLE
SELECT *, file_run_date(filename) AS run_date
FROM read_parquet(warehouse_glob() || name || '/*/*.parquet',
    hive_partitioning = false, union_by_name = true, filename = true);

-- The filters of reports and dashboards, bound as parameters: a NULL bound is no bound.
CREATE OR REPLACE MACRO within_dates(day, since, until) AS
(since IS NULL OR day >= since) AND (until IS NULL OR day <= until);

-- The day a date filter selects an article by: its publication day as the source states it,
-- else its run date (an article with no date is still in the period it was collected in).
CREATE OR REPLACE MACRO article_day(published_date, run_date) AS coalesce(published_date, run_date);

-- An outlet filter matches the outlet's name whatever its case; NULL matches every outlet.
CREATE OR REPLACE MACRO of_outlet(name, outlet) AS
outlet IS NULL OR lower(name) = lower(outlet);

-- `runs` is the log of every attempt, failed ones included.
CREATE OR REPLACE VIEW runs AS SELECT * EXCLUDE (filename) FROM warehouse_files('runs');

-- The committed attempt of each run date: its latest succeeded run. An attempt's files
-- become visible only when its `runs` row lands, so a crashed run shows nothing.
CREATE OR REPLACE VIEW committed_attempts AS
SELECT run_date, parse_filename(filename, true) AS attempt, run_id
FROM warehouse_files('runs')
WHERE status = 'succeeded'
QUALIFY row_number() OVER (PARTITION BY run_date ORDER BY attempt DESC) = 1;

-- Every attempt that committed (its `runs` row says `succeeded`), on any run date.
CREATE OR REPLACE VIEW committed_stems AS
SELECT DISTINCT parse_filename(filename, true) AS attempt
FROM warehouse_files('runs')
WHERE status = 'succeeded';

-- The current file of each date folder of a table: the file of the latest committed attempt
-- that wrote one there (attempt names sort by start time, and runs take turns). An attempt
-- writes every table of its own date and the cross-date tables of the dates it changes;
-- files of an attempt that never committed are never read. `data.parquet` is a newsetl 0.1
-- file. Chosen by listing the files, not their rows: an empty file is current too.
CREATE OR REPLACE MACRO current_files(name) AS TABLE
SELECT run_date, attempt
FROM (
    SELECT
        file_run_date(file) AS run_date,
        parse_filename(file, true) AS attempt
    FROM glob(warehouse_glob() || name || '/*/*.parquet')
)
WHERE attempt IN (SELECT attempt FROM committed_stems) OR attempt = 'data'
QUALIFY row_number() OVER (PARTITION BY run_date ORDER BY attempt = 'data', attempt DESC) = 1;

-- A table's current rows.
CREATE OR REPLACE MACRO warehouse_table(name) AS TABLE
SELECT f.* EXCLUDE (filename)
FROM warehouse_files(name) AS f
JOIN current_files(name) AS c
    ON f.run_date = c.run_date AND parse_filename(f.filename, true) = c.attempt;

-- Tables shown as their files hold them: no later run changes what their ids mean. The
-- cross-date tables (the history index, the links and decisions across dates) hold each
-- date's own ids, and come first because the views below map through `id_map`.
CREATE OR REPLACE VIEW removed_lines AS SELECT * FROM warehouse_table('removed_lines');
CREATE OR REPLACE VIEW rejects AS SELECT * FROM warehouse_table('rejects');
CREATE OR REPLACE VIEW fetches AS SELECT * FROM warehouse_table('fetches');
CREATE OR REPLACE VIEW article_index AS SELECT * FROM warehouse_table('article_index');
CREATE OR REPLACE VIEW quote_index AS SELECT * FROM warehouse_table('quote_index');
CREATE OR REPLACE VIEW entity_index AS SELECT * FROM warehouse_table('entity_index');
CREATE OR REPLACE VIEW history_links AS SELECT * FROM warehouse_table('history_links');
CREATE OR REPLACE VIEW quote_links AS SELECT * FROM warehouse_table('quote_links');
CREATE OR REPLACE VIEW id_map AS SELECT * FROM warehouse_table('id_map');

-- The mapping of one kind of id on each date. A date's files keep the ids decided within
-- that date (a date's files never change once written), and a later run that merges them
-- with another date's says so in `id_map` (no row: the id stands). Grouped so that a
-- join with it can never multiply the rows it maps, whatever a faulty run wrote.
CREATE OR REPLACE MACRO id_lookup(map_kind) AS TABLE
SELECT run_date, local_id, min(global_id) AS global_id
FROM id_map
WHERE kind = map_kind
GROUP BY run_date, local_id;

-- Articles with the story across dates, and the earliest copy on an earlier date (which
-- overrides the date's own `duplicate_of`). run_date comes after the file's columns: it is
-- moved back before `ingested_at`, as declared.
CREATE OR REPLACE VIEW articles AS
WITH own AS (
    -- A file of newsetl before 0.5 has no `input_id`, `input_kind`, `fetched_at` or
    -- `http_status`: null there (the kind told by the source), and in their declared place.
    SELECT * FROM warehouse_table('articles')
    UNION ALL BY NAME
    SELECT
        CAST(NULL AS VARCHAR) AS input_id,
        CAST(NULL AS VARCHAR) AS input_kind,
        CAST(NULL AS TIMESTAMPTZ) AS fetched_at,
        CAST(NULL AS INTEGER) AS http_status
    WHERE false
)

SELECT
    a.article_id,
    a.content_hash,
    a.source_uri,
    a.input_id,
    coalesce(a.input_kind, CASE
        WHEN a.source_uri LIKE '%#L%' THEN 'jsonl'
        WHEN regexp_matches(a.source_uri, '\.json(\.[a-z0-9]+)?#R\d+$') THEN 'json'
        WHEN a.source_uri LIKE '%#R%' THEN 'table'
        ELSE 'file'
    END) AS input_kind,
    a.url,
    a.fetched_at,
    a.http_status,
    a.* EXCLUDE (
        article_id, content_hash, source_uri, input_id, input_kind, url, fetched_at,
        http_status, run_date, ingested_at
    ) REPLACE (
        coalesce(d.global_id, a.duplicate_of) AS duplicate_of,
        coalesce(s.global_id, a.story_id) AS story_id
    ),
    a.run_date,
    a.ingested_at
FROM own AS a
LEFT JOIN id_lookup('duplicate_of') AS d ON d.run_date = a.run_date AND d.local_id = a.article_id
LEFT JOIN id_lookup('story') AS s ON s.run_date = a.run_date AND s.local_id = a.story_id;

-- A run date that wrote articles of the outlet (NULL: every run date): runs, rejects and
-- warnings belong to a run, not to an outlet.
CREATE OR REPLACE MACRO wrote_outlet(day, name) AS
name IS NULL OR day IN (SELECT run_date FROM articles WHERE of_outlet(outlet, name));

-- A link's relation in a reader's words, and how close it is (a copy says most).
CREATE OR REPLACE MACRO relation_label(relation) AS
CASE relation WHEN 'exact_duplicate' THEN 'copy' WHEN 'near_duplicate' THEN 'near copy'
    WHEN 'same_story' THEN 'same story' ELSE relation END;

CREATE OR REPLACE MACRO relation_rank(relation) AS
CASE relation WHEN 'exact_duplicate' THEN 1 WHEN 'near_duplicate' THEN 2 WHEN 'excerpt' THEN 3
    WHEN 'rewrite' THEN 4 ELSE 5 END;

-- Mentions of the entity across dates.
CREATE OR REPLACE VIEW entity_mentions AS
SELECT m.* REPLACE (coalesce(e.global_id, m.entity_id) AS entity_id)
FROM warehouse_table('entity_mentions') AS m
LEFT JOIN id_lookup('entity') AS e ON e.run_date = m.run_date AND e.local_id = m.entity_id;

-- A person's gender over several rows (dates, or ids merged on one date): the one gender
-- they agree on, else unknown; the evidence of the row that gives most of it, or
-- "conflicting" when rows disagree or one found its own evidence conflicting.
CREATE OR REPLACE MACRO agreed_gender(gender) AS
CASE WHEN count(DISTINCT gender) FILTER (WHERE gender IN ('female', 'male')) = 1
    THEN max(gender) FILTER (WHERE gender IN ('female', 'male')) ELSE 'unknown' END;

CREATE OR REPLACE MACRO agreed_gender_evidence(gender, evidence) AS
CASE
    WHEN count(DISTINCT gender) FILTER (WHERE gender IN ('female', 'male')) = 1
        THEN first(evidence ORDER BY length(evidence) DESC, evidence)
            FILTER (WHERE gender IN ('female', 'male'))
    WHEN count(DISTINCT gender) FILTER (WHERE gender IN ('female', 'male')) > 1
        OR bool_or(evidence = 'conflicting') THEN 'conflicting'
END;

-- One row per entity over the whole warehouse. Its name is the alias file's when a run
-- mapped it to one (that name is not always written on the dates that mention it), else
-- the fullest name written on any date: most words, so "Antony J. Blinken" beats
-- "Blinken", then most mentions, then longest, then alphabetical, for a stable choice.
CREATE OR REPLACE VIEW entity_summary AS
WITH merged AS (
    -- Every date's `entities` rows under their entity across dates, not yet merged. The
    -- `entities` view reads them the same way, as it takes its names from this view. (Not a
    -- macro: DuckDB binds one when it is created, which fails where the table has no file
    -- yet, while a view that fails is replaced by an empty one.)
    SELECT e.* REPLACE (coalesce(m.global_id, e.entity_id) AS entity_id)
    FROM (
        -- A file of newsetl before 0.5 has no gender columns.
        SELECT * FROM warehouse_table('entities')
        UNION ALL BY NAME
        SELECT CAST(NULL AS VARCHAR) AS gender, CAST(NULL AS VARCHAR) AS gender_evidence
        WHERE false
    ) AS e
    LEFT JOIN id_lookup('entity') AS m ON m.run_date = e.run_date AND m.local_id = e.entity_id
),

alias_names AS (
    SELECT global_id AS entity_id, min(name) AS name
    FROM id_map
    WHERE kind = 'entity' AND name IS NOT NULL
    GROUP BY global_id
),

written_names AS (
    SELECT entity_id, canonical_name AS name, sum(mention_count) AS mentions
    FROM merged
    GROUP BY entity_id, canonical_name
),

fullest_names AS (
    SELECT
        entity_id,
        first(name ORDER BY len(regexp_extract_all(name, '\S+')) DESC, mentions DESC,
            length(name) DESC, name) AS name
    FROM written_names
    GROUP BY entity_id
),

labels AS (
    SELECT entity_id, first(label ORDER BY mentions DESC, label) AS label
    FROM (
        SELECT entity_id, label, sum(mention_count) AS mentions
        FROM merged
        GROUP BY entity_id, label
    )
    GROUP BY entity_id
),

dates AS (
    SELECT
        entity_id,
        list_sort(list_distinct(flatten(list(aliases)))) AS aliases,
        agreed_gender(gender) AS gender,
        agreed_gender_evidence(gender, gender_evidence) AS gender_evidence,
        min(run_date) AS first_run_date,
        max(run_date) AS last_run_date
    FROM merged
    GROUP BY entity_id
),

mentioned AS (
    SELECT m.entity_id, m.article_id, m.role, a.outlet, a.published_at
    FROM entity_mentions AS m
    LEFT JOIN articles AS a USING (article_id, run_date)
),

reach AS (
    SELECT
        entity_id,
        count(*) AS mentions,
        count(DISTINCT article_id) AS articles,
        count(DISTINCT outlet) AS outlets,
        min(published_at) AS first_seen_at,
        max(published_at) AS last_seen_at
    FROM mentioned
    GROUP BY entity_id
),

roles AS (
    SELECT entity_id, first(role ORDER BY mentions DESC, role) AS role
    FROM (
        SELECT entity_id, role, count(*) AS mentions
        FROM mentioned
        WHERE role IS NOT NULL
        GROUP BY entity_id, role
    )
    GROUP BY entity_id
)

SELECT
    d.entity_id,
    coalesce(n.name, f.name) AS canonical_name,
    l.label,
    d.aliases,
    CAST(coalesce(r.mentions, 0) AS BIGINT) AS mention_count,
    CAST(coalesce(r.articles, 0) AS BIGINT) AS article_count,
    CAST(coalesce(r.outlets, 0) AS BIGINT) AS outlet_count,
    o.role,
    CASE WHEN l.label = 'PERSON' THEN d.gender END AS gender,
    CASE WHEN l.label = 'PERSON' THEN d.gender_evidence END AS gender_evidence,
    r.first_seen_at,
    r.last_seen_at,
    d.first_run_date,
    d.last_run_date
FROM dates AS d
JOIN fullest_names AS f USING (entity_id)
JOIN labels AS l USING (entity_id)
LEFT JOIN alias_names AS n USING (entity_id)
LEFT JOIN reach AS r USING (entity_id)
LEFT JOIN roles AS o USING (entity_id);

-- One row per entity across dates and run date: a date's entities that a later run found
-- to be one (a bare surname, an aliased name) are merged, named as over the whole warehouse.
CREATE OR REPLACE VIEW entities AS
WITH merged AS (
    -- As in `entity_summary`: every date's rows under their entity across dates.
    SELECT e.* REPLACE (coalesce(m.global_id, e.entity_id) AS entity_id)
    FROM (
        -- A file of newsetl before 0.5 has no gender columns.
        SELECT * FROM warehouse_table('entities')
        UNION ALL BY NAME
        SELECT CAST(NULL AS VARCHAR) AS gender, CAST(NULL AS VARCHAR) AS gender_evidence
        WHERE false
    ) AS e
    LEFT JOIN id_lookup('entity') AS m ON m.run_date = e.run_date AND m.local_id = e.entity_id
),

per_date AS (
    SELECT
        entity_id,
        run_date,
        list_sort(list_distinct(flatten(list(aliases)))) AS aliases,
        agreed_gender(gender) AS gender,
        agreed_gender_evidence(gender, gender_evidence) AS gender_evidence,
        sum(mention_count) AS mention_count,
        max(article_count) AS stored_articles,
        min(first_seen_at) AS first_seen_at,
        min(run_id) AS run_id
    FROM merged
    GROUP BY entity_id, run_date
),

-- The date's articles are counted again: two merged rows may share an article.
date_articles AS (
    SELECT entity_id, run_date, count(DISTINCT article_id) AS articles
    FROM entity_mentions
    GROUP BY entity_id, run_date
),

date_roles AS (
    SELECT entity_id, run_date, first(role ORDER BY mentions DESC, role) AS role
    FROM (
        SELECT entity_id, run_date, role, sum(mention_count) AS mentions
        FROM merged
        WHERE role IS NOT NULL
        GROUP BY entity_id, run_date, role
    )
    GROUP BY entity_id, run_date
)

SELECT
    p.entity_id,
    s.canonical_name,
    s.label,
    p.aliases,
    CAST(p.mention_count AS INTEGER) AS mention_count,
    CAST(coalesce(c.articles, p.stored_articles) AS INTEGER) AS article_count,
    r.role,
    CASE WHEN s.label = 'PERSON' THEN p.gender END AS gender,
    CASE WHEN s.label = 'PERSON' THEN p.gender_evidence END AS gender_evidence,
    p.first_seen_at,
    p.run_id,
    p.run_date
FROM per_date AS p
JOIN entity_summary AS s USING (entity_id)
LEFT JOIN date_articles AS c USING (entity_id, run_date)
LEFT JOIN date_roles AS r USING (entity_id, run_date);

-- Quotes with their cluster and speaker across dates: a resolved speaker is named as in
-- `entity_summary`, so one person is one speaker on every date.
CREATE OR REPLACE VIEW quotes AS
WITH own AS (
    -- A file of newsetl before 0.5 has no gender columns: its speakers' gender is unknown.
    SELECT * FROM warehouse_table('quotes')
    UNION ALL BY NAME
    SELECT CAST(NULL AS VARCHAR) AS speaker_gender,
        CAST(NULL AS VARCHAR) AS speaker_gender_evidence
    WHERE false
)

SELECT q.* REPLACE (
    coalesce(s.canonical_name, q.speaker) AS speaker,
    coalesce(e.global_id, q.speaker_entity_id) AS speaker_entity_id,
    coalesce(c.global_id, q.quote_cluster_id) AS quote_cluster_id,
    coalesce(q.speaker_gender, 'unknown') AS speaker_gender
)
FROM own AS q
LEFT JOIN id_lookup('entity') AS e
    ON e.run_date = q.run_date AND e.local_id = q.speaker_entity_id
LEFT JOIN id_lookup('quote_cluster') AS c
    ON c.run_date = q.run_date AND c.local_id = q.quote_cluster_id
LEFT JOIN entity_summary AS s ON s.entity_id = coalesce(e.global_id, q.speaker_entity_id);

-- A date's links within it, and the links across dates, each under the run date of its
-- `article_id`. Files written before `other_run_date` existed lack the column: the empty
-- branch adds it (as null, so the date's own), whichever files a warehouse holds.
CREATE OR REPLACE VIEW article_links AS
WITH own AS (
    SELECT * FROM warehouse_table('article_links')
    UNION ALL BY NAME
    SELECT CAST(NULL AS DATE) AS other_run_date WHERE false
)

SELECT article_id, other_article_id, relation, score,
    coalesce(other_run_date, run_date) AS other_run_date, run_id, run_date
FROM own
UNION ALL
SELECT article_id, other_article_id, relation, score, other_run_date, run_id,
    article_run_date AS run_date
FROM history_links;

-- One row per story over all dates: a story continues under one id on every date its
-- articles come in. Its title is the earliest dated article's (an undated one only when
-- none is dated), its top entities those in most of its articles.
CREATE OR REPLACE VIEW stories AS
WITH story_entities AS (
    SELECT a.story_id, m.entity_id, count(DISTINCT m.article_id) AS articles, count(*) AS mentions
    FROM entity_mentions AS m
    JOIN articles AS a USING (article_id, run_date)
    GROUP BY a.story_id, m.entity_id
),

top_entities AS (
    SELECT
        e.story_id,
        list_slice(list(s.canonical_name ORDER BY e.articles DESC, e.mentions DESC,
            s.canonical_name, e.entity_id), 1, 5) AS names
    FROM story_entities AS e
    JOIN entity_summary AS s USING (entity_id)
    GROUP BY e.story_id
),

grouped AS (
    SELECT
        story_id,
        first(title ORDER BY published_at NULLS LAST, source_uri, run_date, article_id)
            FILTER (WHERE title IS NOT NULL) AS title,
        count(DISTINCT article_id) AS article_count,
        list_sort(list_distinct(list(outlet))) AS outlets,
        min(published_at) AS first_published_at,
        max(published_at) AS last_published_at,
        min(run_date) AS first_run_date,
        max(run_date) AS last_run_date,
        count(DISTINCT run_date) AS run_dates
    FROM articles
    GROUP BY story_id
)

SELECT
    g.story_id,
    g.title,
    CAST(g.article_count AS BIGINT) AS article_count,
    g.outlets,
    g.first_published_at,
    g.last_published_at,
    coalesce(t.names, CAST([] AS VARCHAR[])) AS top_entities,
    g.first_run_date,
    g.last_run_date,
    CAST(g.run_dates AS BIGINT) AS run_dates
FROM grouped AS g
LEFT JOIN top_entities AS t USING (story_id);

-- Flat views for BI tools, whose charts and CSV exports take no lists or structs: each is a
-- view above with its list column unnested, one row per element and the parent's scalar
-- columns beside it (a parent with no elements keeps one row, the element's columns null).
CREATE OR REPLACE MACRO elements(items) AS TABLE
SELECT CAST(generate_subscripts(items, 1) AS INTEGER) AS position, unnest(items) AS element;

CREATE OR REPLACE VIEW quote_spans AS
SELECT q.* EXCLUDE (spans), s.position AS span_index, s.element.start_char AS span_start_char,
    s.element.end_char AS span_end_char
FROM quotes AS q
LEFT JOIN LATERAL elements(q.spans) AS s ON true;

CREATE OR REPLACE VIEW story_articles AS
SELECT s.* EXCLUDE (outlets, top_entities), a.article_id, a.outlet, a.title AS article_title,
    a.url, a.published_at, a.duplicate_of, a.run_date
FROM stories AS s
JOIN articles AS a USING (story_id);

CREATE OR REPLACE VIEW story_entities AS
SELECT s.* EXCLUDE (outlets, top_entities), e.position AS entity_rank, e.element AS entity_name
FROM stories AS s
LEFT JOIN LATERAL elements(s.top_entities) AS e ON true;

CREATE OR REPLACE VIEW entity_aliases AS
SELECT e.* EXCLUDE (aliases), x.element AS alias
FROM entity_summary AS e
LEFT JOIN LATERAL elements(e.aliases) AS x ON true;

CREATE OR REPLACE VIEW article_warnings AS
SELECT a.* EXCLUDE (warnings, body), w.position AS warning_index, w.element AS warning
FROM articles AS a
LEFT JOIN LATERAL elements(a.warnings) AS w ON true;

CREATE OR REPLACE VIEW run_warnings AS
SELECT r.* EXCLUDE (warnings), w.position AS warning_index, w.element AS warning
FROM runs AS r
LEFT JOIN LATERAL elements(r.warnings) AS w ON true;
