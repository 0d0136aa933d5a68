-- name: rolling_30d_close_usd
-- description: Average close in USD over the last 30 trading days (this one and the 29 before it) per index, for each index's last 90 days of data
-- schedule: 30 6 * * *
-- The average is rounded to 4 decimals: Athena and DuckDB sum a window in different orders, so the last
-- digits of an unrounded double average differ between the modes (and mean nothing in USD).
WITH w AS (
  SELECT "index", trade_date, close_usd,
    round(avg(close_usd) OVER (PARTITION BY "index" ORDER BY trade_date ROWS BETWEEN 29 PRECEDING AND CURRENT ROW), 4) AS avg_close_usd_30d,
    count(*) OVER (PARTITION BY "index" ORDER BY trade_date ROWS BETWEEN 29 PRECEDING AND CURRENT ROW) AS days_in_window,
    max(trade_date) OVER (PARTITION BY "index") AS last_date
  FROM stock_market_data
)
SELECT "index", trade_date, close_usd, avg_close_usd_30d, days_in_window
FROM w
WHERE trade_date > last_date - INTERVAL '90' DAY
ORDER BY "index", trade_date
