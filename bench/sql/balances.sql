-- The running balances and their daily rows moved by the deltas in bench_deltas (ledger
-- account, asset, day, posted, pending), as the app's balances.apply does: missing ledger
-- accounts and balance rows first, then the rows locked, the heads moved, the daily rows of
-- the delta's day upserted and every later daily row moved (a back-dated change).
-- One writer, so every change goes to stripe 0 (the app spreads the balances every trade moves
-- over stripes so that concurrent writers never wait for each other; a single set-based
-- statement has no one to wait for). Used by clearing.sql and settlement.sql: it expects
-- bench_deltas filled.

-- step: ledger accounts and balance rows that do not exist yet
INSERT INTO ledger_accounts (code, kind, name, reference, created_at)
SELECT DISTINCT ledger_account, split_part(ledger_account, ':', 1), 'Bench ' || ledger_account,
       split_part(ledger_account, ':', 2), now()
FROM bench_deltas
ON CONFLICT DO NOTHING;
INSERT INTO ledger_balances (ledger_account, asset, stripe, posted, pending, cost,
                             realized_pnl, last_date, updated_at)
SELECT DISTINCT ledger_account, asset, 0, 0, 0, 0, 0, NULL::date, now()
FROM bench_deltas
ON CONFLICT (ledger_account, asset, stripe) DO NOTHING;

-- step: balances locked, in key order
CREATE TEMP TABLE bench_keyed ON COMMIT DROP AS
SELECT b.id, b.last_date, d.day, sum(d.posted) AS posted, sum(d.pending) AS pending
FROM bench_deltas d
JOIN ledger_balances b
  ON b.ledger_account = d.ledger_account AND b.asset = d.asset AND b.stripe = 0
GROUP BY b.id, b.last_date, d.day;
CREATE INDEX ON bench_keyed (id, day);
ANALYZE bench_keyed;
SELECT count(*) FROM (
    SELECT 1 FROM ledger_balances
    WHERE id IN (SELECT id FROM bench_keyed) ORDER BY ledger_account, asset FOR UPDATE
) locked;

-- step: daily rows on and after each delta's day moved
UPDATE ledger_balance_days d
SET posted = d.posted + s.posted, pending = d.pending + s.pending
FROM (
    SELECT d2.balance_id, d2.as_of_date, sum(k.posted) AS posted, sum(k.pending) AS pending
    FROM ledger_balance_days d2
    JOIN bench_keyed k ON k.id = d2.balance_id AND k.day <= d2.as_of_date
    GROUP BY d2.balance_id, d2.as_of_date
) s
WHERE d.balance_id = s.balance_id AND d.as_of_date = s.as_of_date;

-- step: daily rows of the deltas' days that did not exist
INSERT INTO ledger_balance_days (balance_id, as_of_date, posted, pending, cost, realized_pnl)
SELECT k.id, k.day,
       coalesce(p.posted, 0) + (SELECT sum(x.posted) FROM bench_keyed x WHERE x.id = k.id
           AND x.day <= k.day AND x.day > coalesce(p.as_of_date, '-infinity'::date)),
       coalesce(p.pending, 0) + (SELECT sum(x.pending) FROM bench_keyed x WHERE x.id = k.id
           AND x.day <= k.day AND x.day > coalesce(p.as_of_date, '-infinity'::date)),
       coalesce(p.cost, 0), coalesce(p.realized_pnl, 0)
FROM (SELECT DISTINCT id, day FROM bench_keyed) k
LEFT JOIN LATERAL (
    SELECT * FROM ledger_balance_days d
    WHERE d.balance_id = k.id AND d.as_of_date < k.day
    ORDER BY d.as_of_date DESC LIMIT 1
) p ON true
WHERE NOT EXISTS (
    SELECT 1 FROM ledger_balance_days e WHERE e.balance_id = k.id AND e.as_of_date = k.day
);

-- step: running balances moved
UPDATE ledger_balances b
SET posted = b.posted + s.posted, pending = b.pending + s.pending,
    last_date = greatest(b.last_date, s.last_day), updated_at = now()
FROM (
    SELECT id, sum(posted) AS posted, sum(pending) AS pending, max(day) AS last_day
    FROM bench_keyed GROUP BY id
) s
WHERE b.id = s.id;
DROP TABLE bench_keyed;
TRUNCATE bench_deltas;
