-- name: stock_market_data
-- description: The Parquet lake the ETL writes (glue/tables/stock_market_data.json); the ETL registers its partitions and moves them to new generations itself (protocol v3, glue/README.md). Replace ${BUCKET} to create it by hand.
-- bootstrap: create
-- Same shape as the crawler writes: partition key year as string (folder names), Snappy Parquet, ParquetHiveSerDe.
CREATE EXTERNAL TABLE IF NOT EXISTS stock_market_data (
  `index` string,
  trade_date date,
  open double,
  high double,
  low double,
  close double,
  adj_close double,
  volume bigint,
  close_usd double,
  event_time timestamp,
  `_topic` string,
  `_partition` int,
  `_offset` bigint,
  `_timestamp` timestamp,
  `_key` string
)
PARTITIONED BY (`year` string)
STORED AS PARQUET
LOCATION 's3://${BUCKET}/datalake/stock_market_data/'
TBLPROPERTIES ('classification' = 'parquet', 'parquet.compression' = 'SNAPPY')
