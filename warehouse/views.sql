-- Views over the Parquet warehouse. This is the only SQL that knows file paths:
-- reports and ad-hoc queries read these views. `{{ warehouse }}` is replaced by the
-- warehouse folder (absolute path) when the views are created.
-- union_by_name lets partitions written before a column was added still be read.

CREATE OR REPLACE VIEW articles AS
SELECT * FROM read_parquet('{{ warehouse }}/articles/*/*.parquet',
    hive_partitioning = true, hive_types = {'run_date': DATE}, union_by_name = true);

CREATE OR REPLACE VIEW removed_lines AS
SELECT * FROM read_parquet('{{ warehouse }}/removed_lines/*/*.parquet',
    hive_partitioning = true, hive_types = {'run_date': DATE}, union_by_name = true);

CREATE OR REPLACE VIEW entity_mentions AS
SELECT * FROM read_parquet('{{ warehouse }}/entity_mentions/*/*.parquet',
    hive_partitioning = true, hive_types = {'run_date': DATE}, union_by_name = true);

CREATE OR REPLACE VIEW entities AS
SELECT * FROM read_parquet('{{ warehouse }}/entities/*/*.parquet',
    hive_partitioning = true, hive_types = {'run_date': DATE}, union_by_name = true);

CREATE OR REPLACE VIEW quotes AS
SELECT * FROM read_parquet('{{ warehouse }}/quotes/*/*.parquet',
    hive_partitioning = true, hive_types = {'run_date': DATE}, union_by_name = true);

CREATE OR REPLACE VIEW article_links AS
SELECT * FROM read_parquet('{{ warehouse }}/article_links/*/*.parquet',
    hive_partitioning = true, hive_types = {'run_date': DATE}, union_by_name = true);

CREATE OR REPLACE VIEW stories AS
SELECT * FROM read_parquet('{{ warehouse }}/stories/*/*.parquet',
    hive_partitioning = true, hive_types = {'run_date': DATE}, union_by_name = true);

CREATE OR REPLACE VIEW rejects AS
SELECT * FROM read_parquet('{{ warehouse }}/rejects/*/*.parquet',
    hive_partitioning = true, hive_types = {'run_date': DATE}, union_by_name = true);

CREATE OR REPLACE VIEW runs AS
SELECT * FROM read_parquet('{{ warehouse }}/runs/*/*.parquet',
    hive_partitioning = true, hive_types = {'run_date': DATE}, union_by_name = true);
