-- name: staging_stock_market_data
-- bootstrap: create
-- description: The raw staging objects the consumer writes (gzip JSON lines, one per Kafka record, envelope included), partitioned by arrival date dt. Replace ${BUCKET}: partition projection finds the dt folders (no MSCK REPAIR needed); `kafkalake bootstrap` creates it in the Glue catalog, and the local engine projects its partitions as Athena does.
-- Values are read as the producer sent them; _timestamp is ISO-8601 text or epoch milliseconds, so string.
CREATE EXTERNAL TABLE IF NOT EXISTS staging_stock_market_data (
  `index` string,
  `date` string,
  open double,
  high double,
  low double,
  close double,
  adj_close double,
  volume double,
  close_usd double,
  event_time string,
  `_topic` string,
  `_partition` int,
  `_offset` bigint,
  `_timestamp` string,
  `_key` string
)
PARTITIONED BY (dt string)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
WITH SERDEPROPERTIES ('ignore.malformed.json' = 'true')
STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION 's3://${BUCKET}/staging/stock_market_data/'
TBLPROPERTIES (
  'classification' = 'json',
  'compressionType' = 'gzip',
  'projection.enabled' = 'true',
  'projection.dt.type' = 'date',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.range' = '2020-01-01,NOW',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://${BUCKET}/staging/stock_market_data/dt=${dt}/'
)
