-- name: dlq_stock_market_data
-- description: The dead-letter records (staging/_dlq/): the consumer's (envelope, reason, raw_base64) and the ETL's (stage, table, source, envelope, reason, raw), partitioned by dt. Replace ${BUCKET}; then MSCK REPAIR TABLE dlq_stock_market_data. The data_quality report counts its rows by reason.
CREATE EXTERNAL TABLE IF NOT EXISTS dlq_stock_market_data (
  _topic string,
  _partition int,
  _offset bigint,
  _timestamp string,
  _key string,
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
TBLPROPERTIES ('classification' = 'json', 'compressionType' = 'gzip')
