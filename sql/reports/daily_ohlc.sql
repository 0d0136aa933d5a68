-- name: daily_ohlc
-- description: Daily open, high, low, close, volume and close in USD per index, over each index's last 30 days of data (a day staged twice counts once: its latest offset)
-- schedule: 0 6 * * *
WITH days AS (
  SELECT "index", trade_date,
    max_by(open, _offset) AS open, max_by(high, _offset) AS high, max_by(low, _offset) AS low,
    max_by(close, _offset) AS close, max_by(volume, _offset) AS volume, max_by(close_usd, _offset) AS close_usd
  FROM stock_market_data
  GROUP BY "index", trade_date
), marked AS (
  SELECT days.*, max(trade_date) OVER (PARTITION BY "index") AS last_date FROM days
)
SELECT "index", trade_date, open, high, low, close, volume, close_usd
FROM marked
WHERE trade_date > last_date - INTERVAL '30' DAY
ORDER BY "index", trade_date
