-- name: freshness
-- description: Per index, the latest trade date, event time and ingestion time (Kafka timestamp) and how long ago they were
-- schedule: */15 * * * *
SELECT "index",
  max(trade_date) AS latest_trade_date,
  date_diff('day', max(trade_date), current_date) AS days_since_trade,
  max(event_time) AS latest_event_time,
  date_diff('second', max(event_time), current_timestamp) AS seconds_since_event,
  max(_timestamp) AS latest_ingested,
  date_diff('second', max(_timestamp), current_timestamp) AS seconds_since_ingest
FROM stock_market_data
GROUP BY "index"
ORDER BY "index"
