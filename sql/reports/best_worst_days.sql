-- name: best_worst_days
-- description: The five best and five worst daily close-to-close returns per index (days after a zero close are left out)
-- schedule: 0 7 * * 1
WITH r AS (
  SELECT "index", trade_date, close, lag(close) OVER (PARTITION BY "index" ORDER BY trade_date) AS prev_close
  FROM stock_market_data
), ch AS (
  SELECT "index", trade_date, prev_close, close, close / prev_close - 1 AS daily_return
  FROM r
  WHERE prev_close > 0
), ranked AS (
  SELECT ch.*,
    row_number() OVER (PARTITION BY "index" ORDER BY daily_return DESC, trade_date) AS best_rank,
    row_number() OVER (PARTITION BY "index" ORDER BY daily_return ASC, trade_date) AS worst_rank
  FROM ch
)
SELECT "index", 'best' AS kind, best_rank AS rank, trade_date, prev_close, close, daily_return FROM ranked WHERE best_rank <= 5
UNION ALL
SELECT "index", 'worst' AS kind, worst_rank AS rank, trade_date, prev_close, close, daily_return FROM ranked WHERE worst_rank <= 5
ORDER BY "index", kind, rank
