-- Views over the Parquet warehouse. This is the only SQL that knows file paths:
-- reports and ad-hoc queries read these views. `{{ warehouse }}` is replaced by the
-- warehouse folder (absolute path) when the views are created.

-- Every file of a table: Hive partitions by run_date, union_by_name so partitions written
-- before a column was added still read, and the file name, which names the run attempt.
CREATE OR REPLACE MACRO warehouse_files(name) AS TABLE
SELECT * FROM read_parquet('{{ warehouse }}/' || name || '/*/*.parquet',
    hive_partitioning = true, hive_types = {'run_date': DATE}, union_by_name = true,
    filename = true);

-- `runs` is the log of every attempt, failed ones included.
CREATE OR REPLACE VIEW runs AS SELECT * EXCLUDE (filename) FROM warehouse_files('runs');

-- The committed attempt of each run date: its latest succeeded run. An attempt's files
-- become visible only when its `runs` row lands, so a crashed run shows nothing.
CREATE OR REPLACE VIEW committed_attempts AS
SELECT run_date, parse_filename(filename, true) AS attempt, run_id
FROM warehouse_files('runs')
WHERE status = 'succeeded'
QUALIFY row_number() OVER (PARTITION BY run_date ORDER BY attempt DESC) = 1;

-- A table's rows of the committed attempts (`data.parquet`: partitions of newsetl 0.1).
CREATE OR REPLACE MACRO warehouse_table(name) AS TABLE
SELECT f.* EXCLUDE (filename)
FROM warehouse_files(name) AS f
LEFT JOIN committed_attempts AS c ON f.run_date = c.run_date
WHERE parse_filename(f.filename, true) = coalesce(c.attempt, 'data');

CREATE OR REPLACE VIEW articles AS SELECT * FROM warehouse_table('articles');
CREATE OR REPLACE VIEW removed_lines AS SELECT * FROM warehouse_table('removed_lines');
CREATE OR REPLACE VIEW entity_mentions AS SELECT * FROM warehouse_table('entity_mentions');
CREATE OR REPLACE VIEW entities AS SELECT * FROM warehouse_table('entities');
CREATE OR REPLACE VIEW quotes AS SELECT * FROM warehouse_table('quotes');
CREATE OR REPLACE VIEW article_links AS SELECT * FROM warehouse_table('article_links');
CREATE OR REPLACE VIEW stories AS SELECT * FROM warehouse_table('stories');
CREATE OR REPLACE VIEW rejects AS SELECT * FROM warehouse_table('rejects');
