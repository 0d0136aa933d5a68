-- name: yearly_ohlc
-- description: Yearly open (first trading day), high, low, close (last trading day), total volume and trading days per index
-- schedule: 0 6 1 * *
SELECT "index", year(trade_date) AS trade_year,
  min_by(open, trade_date) AS open, max(high) AS high, min(low) AS low, max_by(close, trade_date) AS close,
  sum(volume) AS volume, count(*) AS trading_days
FROM stock_market_data
GROUP BY "index", year(trade_date)
ORDER BY "index", trade_year
