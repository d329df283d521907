-- Views over the Parquet warehouse. This is the only SQL that knows file paths:
-- reports and ad-hoc queries read these views. `{{ warehouse }}` is replaced by the
-- warehouse folder (absolute path) when the views are created.

-- Every table is read the same way: Hive partitions by run_date, and union_by_name so
-- partitions written before a column was added still read.
CREATE OR REPLACE MACRO warehouse_table(name) AS TABLE
SELECT * FROM read_parquet('{{ warehouse }}/' || name || '/*/*.parquet',
    hive_partitioning = true, hive_types = {'run_date': DATE}, union_by_name = true);

CREATE OR REPLACE VIEW articles AS SELECT * FROM warehouse_table('articles');
CREATE OR REPLACE VIEW removed_lines AS SELECT * FROM warehouse_table('removed_lines');
CREATE OR REPLACE VIEW entity_mentions AS SELECT * FROM warehouse_table('entity_mentions');
CREATE OR REPLACE VIEW entities AS SELECT * FROM warehouse_table('entities');
CREATE OR REPLACE VIEW quotes AS SELECT * FROM warehouse_table('quotes');
CREATE OR REPLACE VIEW article_links AS SELECT * FROM warehouse_table('article_links');
CREATE OR REPLACE VIEW stories AS SELECT * FROM warehouse_table('stories');
CREATE OR REPLACE VIEW rejects AS SELECT * FROM warehouse_table('rejects');
CREATE OR REPLACE VIEW runs AS SELECT * FROM warehouse_table('runs');
