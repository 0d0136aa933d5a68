-- name: dlq_stock_market_data
-- bootstrap: create
-- description: The dead-letter records (staging/_dlq/): the consumer's (envelope, reason, raw_base64) and the ETL's (stage, table, source, envelope, reason, raw), partitioned by dt. Replace ${BUCKET}: partition projection finds the dt folders (no MSCK REPAIR needed); `kafkalake bootstrap` creates it in the Glue catalog, and the local engine projects its partitions as Athena does. The data_quality report counts its rows by reason.
CREATE EXTERNAL TABLE IF NOT EXISTS dlq_stock_market_data (
  `_topic` string,
  `_partition` int,
  `_offset` bigint,
  `_timestamp` string,
  `_key` string,
  reason string,
  raw_base64 string,
  stage string,
  `table` string,
  source string,
  raw string
)
PARTITIONED BY (dt string)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
WITH SERDEPROPERTIES ('ignore.malformed.json' = 'true')
STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION 's3://${BUCKET}/staging/_dlq/stock_market_data/'
TBLPROPERTIES (
  'classification' = 'json',
  'compressionType' = 'gzip',
  'projection.enabled' = 'true',
  'projection.dt.type' = 'date',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.range' = '2020-01-01,NOW',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://${BUCKET}/staging/_dlq/stock_market_data/dt=${dt}/'
)
