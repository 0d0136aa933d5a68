-- name: data_quality
-- description: Data-quality checks of the lake: row count, NULLs per column, high below low, close outside [low, high], negative volume, duplicate business keys and envelopes, and DLQ records by reason
-- schedule: 0 5 * * *
WITH s AS (
  SELECT count(*) AS row_count,
    count_if("index" IS NULL) AS null_index, count_if(trade_date IS NULL) AS null_trade_date,
    count_if(open IS NULL) AS null_open, count_if(high IS NULL) AS null_high, count_if(low IS NULL) AS null_low,
    count_if(close IS NULL) AS null_close, count_if(adj_close IS NULL) AS null_adj_close,
    count_if(volume IS NULL) AS null_volume, count_if(close_usd IS NULL) AS null_close_usd,
    count_if(high < low) AS high_below_low,
    count_if(close > high OR close < low) AS close_outside_range,
    count_if(volume < 0) AS negative_volume
  FROM stock_market_data
), dup_key AS (
  SELECT count(*) AS n FROM (SELECT "index", trade_date FROM stock_market_data GROUP BY "index", trade_date HAVING count(*) > 1) k
), dup_envelope AS (
  SELECT count(*) AS n FROM (SELECT _topic, _partition, _offset FROM stock_market_data GROUP BY _topic, _partition, _offset HAVING count(*) > 1) e
), dlq AS (
  SELECT reason, count(*) AS n FROM dlq_stock_market_data GROUP BY reason
), checks AS (
  SELECT 'row_count' AS check_name, 'stock_market_data' AS detail, row_count AS value FROM s
  UNION ALL SELECT 'null_values', 'index', null_index FROM s
  UNION ALL SELECT 'null_values', 'trade_date', null_trade_date FROM s
  UNION ALL SELECT 'null_values', 'open', null_open FROM s
  UNION ALL SELECT 'null_values', 'high', null_high FROM s
  UNION ALL SELECT 'null_values', 'low', null_low FROM s
  UNION ALL SELECT 'null_values', 'close', null_close FROM s
  UNION ALL SELECT 'null_values', 'adj_close', null_adj_close FROM s
  UNION ALL SELECT 'null_values', 'volume', null_volume FROM s
  UNION ALL SELECT 'null_values', 'close_usd', null_close_usd FROM s
  UNION ALL SELECT 'high_below_low', 'stock_market_data', high_below_low FROM s
  UNION ALL SELECT 'close_outside_range', 'stock_market_data', close_outside_range FROM s
  UNION ALL SELECT 'negative_volume', 'stock_market_data', negative_volume FROM s
  UNION ALL SELECT 'duplicate_index_trade_date', 'stock_market_data', n FROM dup_key
  UNION ALL SELECT 'duplicate_envelope', 'stock_market_data', n FROM dup_envelope
  UNION ALL SELECT 'dlq_records', coalesce(reason, '(no reason)'), n FROM dlq
)
SELECT check_name, detail, value FROM checks
ORDER BY check_name, detail
