-- The settlement run's writes for one day, set-based: the baseline of bench.settlement. Run in
-- one transaction on a clone of the bench database made just before the app's run.
-- Settings: bench.day (the run date, which is the app's today: its clock is pinned to it),
-- bench.actor (the operations key id).
-- Decides as the run does, in settlement order (priority, age) per securities balance and per
-- cash balance: a delivery short of securities fails (LACK) or, where partial settlement is
-- allowed, settles what is there (whole settlement units, the cash pro rata); a payment short
-- of cash fails (MONY). Securities: what is there is a running sum floored at zero over the
-- receipts and the deliveries that may take it (a Lindley recursion, in window functions).
-- Writes, as the app does: the run row; each instruction settled, partially settled or failed;
-- per settlement a journal entry posting its pending entry (four postings), the pending entry
-- resolved (and a remainder opened after a partial, with its four pending postings); posted
-- and pending balances and their daily rows; the trades of each settled obligation settled or
-- partially settled; the run completed. One audit record (queued for the sealer) per row
-- changed. The sealer's hash chain is not written: the app's writers do not write it either.

-- step: start the run
CREATE TEMP TABLE bench_run ON COMMIT DROP AS
SELECT 'str_' || replace(gen_random_uuid()::text, '-', '') AS id;
CREATE TEMP TABLE bench_deltas (
    ledger_account text, asset text, day date, posted numeric, pending numeric
) ON COMMIT DROP;
WITH run AS (
    INSERT INTO settlement_runs (id, settlement_date, status, total, processed, settled,
                                 partially_settled, failed, report, created_at, created_by)
    SELECT id, current_setting('bench.day')::date, 'running', 0, 0, 0, 0, 0, '{}', now(),
           current_setting('bench.actor')
    FROM bench_run
    RETURNING *
), audited AS (
    INSERT INTO audit_records (occurred_at, actor_key_id, actor_role, actor_name, request_id,
                               entity_type, entity_id, action, before, after, event_type)
    SELECT now(), current_setting('bench.actor'), 'operations', 'bench', NULL, 'settlement_run',
           id, 'started', NULL, to_json(run), 'settlement_run.started'
    FROM run
    RETURNING id
)
INSERT INTO audit_unsealed (record_id, queued_at) SELECT id, clock_timestamp() FROM audited;

-- step: instructions due, locked, in settlement order
CREATE TEMP TABLE bench_due ON COMMIT DROP AS
SELECT si.id, si.obligation_id, si.pending_id, si.isin, si.currency, si.securities_account,
       si.cash_account, si.counterparty_lei, si.partial_allowed, si.priority, si.created_at,
       si.quantity - si.settled_quantity AS quantity, si.amount - si.settled_amount AS amount,
       CASE WHEN si.delivery_type IN ('RVP', 'RFP') THEN 1 ELSE -1 END AS q_sign,
       CASE WHEN si.credit_debit = 'DBIT' THEN -1 ELSE 1 END AS c_sign,
       coalesce(i.settlement_unit, 1) AS unit
FROM settlement_instructions si
LEFT JOIN instruments i ON i.isin = si.isin
WHERE si.status IN ('matched', 'partially_settled')
  AND si.intended_settlement_date <= current_setting('bench.day')::date
  AND si.held_from IS NULL;
SELECT count(*) FROM (
    SELECT 1 FROM settlement_instructions WHERE id IN (SELECT id FROM bench_due)
    ORDER BY id FOR UPDATE
) locked;

-- step: what each instruction can settle (balances locked)
SELECT count(*) FROM (
    SELECT 1 FROM ledger_balances b
    WHERE (b.ledger_account, b.asset) IN (
        SELECT 'securities:' || securities_account, isin FROM bench_due
        UNION SELECT 'cash:' || cash_account, currency FROM bench_due)
    ORDER BY b.ledger_account, b.asset FOR UPDATE
) locked;
CREATE TEMP TABLE bench_outcome ON COMMIT DROP AS
WITH first_pass AS (  -- every earlier instruction counted: who lacks whatever happens
    SELECT d.*, coalesce(s.posted, 0) AS held, coalesce(c.posted, 0) AS cash,
           sum(d.q_sign * d.quantity) OVER securities AS moved,
           sum(d.c_sign * d.amount) OVER cash AS paid
    FROM bench_due d
    LEFT JOIN ledger_balances s
           ON s.ledger_account = 'securities:' || d.securities_account AND s.asset = d.isin
          AND s.stripe = 0  -- our safekeeping and cash balances have no other stripe
    LEFT JOIN ledger_balances c
           ON c.ledger_account = 'cash:' || d.cash_account AND c.asset = d.currency
          AND c.stripe = 0
    WINDOW securities AS (PARTITION BY d.securities_account, d.isin
                          ORDER BY d.priority, d.created_at, d.id),
           cash AS (PARTITION BY d.cash_account, d.currency ORDER BY d.priority, d.created_at, d.id)
), flagged AS (
    SELECT *, q_sign < 0 AND held + moved < 0 AS lacks,
           c_sign < 0 AND cash + paid < 0 AS short_of_cash
    FROM first_pass
), running AS (  -- what may take the securities: receipts, and deliveries not failing whole
    SELECT *, held + sum(CASE WHEN short_of_cash OR (lacks AND NOT partial_allowed) THEN 0
                              ELSE q_sign * quantity END) OVER securities AS level
    FROM flagged
    WINDOW securities AS (PARTITION BY securities_account, isin
                          ORDER BY priority, created_at, id)
), floored AS (
    SELECT *, level - least(0, min(level) OVER securities) AS there
    FROM running
    WINDOW securities AS (PARTITION BY securities_account, isin
                          ORDER BY priority, created_at, id)
), settled AS (
    SELECT *, CASE
        WHEN short_of_cash THEN 0
        WHEN NOT lacks THEN quantity
        WHEN NOT partial_allowed THEN 0
        ELSE least(quantity, greatest(0, lag(there, 1, held) OVER securities))
        END AS taken
    FROM floored
    WINDOW securities AS (PARTITION BY securities_account, isin
                          ORDER BY priority, created_at, id)
)
SELECT id, obligation_id, pending_id, isin, currency, securities_account, cash_account,
       counterparty_lei, q_sign, c_sign, quantity, amount,
       floor(taken / unit) * unit AS settled_quantity,
       CASE WHEN floor(taken / unit) * unit = quantity THEN amount
            ELSE round(amount * floor(taken / unit) * unit / quantity, 2) END AS settled_amount,
       CASE WHEN short_of_cash THEN 'MONY' WHEN lacks THEN 'LACK' END AS fail_reason,
       'je_' || replace(gen_random_uuid()::text, '-', '') AS entry_id,
       'pe_' || replace(gen_random_uuid()::text, '-', '') AS remainder_id
FROM settled;
ALTER TABLE bench_outcome ADD COLUMN outcome text;
UPDATE bench_outcome SET outcome = CASE WHEN settled_quantity = quantity THEN 'settled'
    WHEN settled_quantity > 0 THEN 'partially_settled' ELSE 'failed' END;
ANALYZE bench_outcome;

-- step: settlement entries and their postings
INSERT INTO journal_entries (id, kind, accounting_date, value_date, effective_at, description,
                             source_type, source_id, reverses_id, pending_id, created_at,
                             created_by)
SELECT entry_id, 'settlement', current_setting('bench.day')::date,
       current_setting('bench.day')::date, NULL, 'Settlement of ' || id, 'settlement', id, NULL,
       pending_id, now(), current_setting('bench.actor')
FROM bench_outcome WHERE outcome <> 'failed';
CREATE TEMP TABLE bench_lines ON COMMIT DROP AS
SELECT o.entry_id, o.pending_id, o.remainder_id, o.outcome, line.*
FROM bench_outcome o
CROSS JOIN LATERAL (VALUES
    ('securities:' || o.securities_account, o.isin, o.q_sign * o.settled_quantity,
     o.q_sign * (o.quantity - o.settled_quantity)),
    ('counterparty:' || o.counterparty_lei, o.isin, -o.q_sign * o.settled_quantity,
     -o.q_sign * (o.quantity - o.settled_quantity)),
    ('cash:' || o.cash_account, o.currency, o.c_sign * o.settled_amount,
     o.c_sign * (o.amount - o.settled_amount)),
    ('counterparty:' || o.counterparty_lei, o.currency, -o.c_sign * o.settled_amount,
     -o.c_sign * (o.amount - o.settled_amount))
) AS line(ledger_account, asset, amount, remainder)
WHERE o.outcome <> 'failed';
INSERT INTO postings (entry_id, ledger_account, asset, amount)
SELECT entry_id, ledger_account, asset, amount FROM bench_lines WHERE amount <> 0
ORDER BY entry_id;

-- step: pending entries posted, remainders opened after a partial settlement
UPDATE pending_entries p
SET status = 'posted', resolved_on = current_setting('bench.day')::date, resolved_at = now(),
    resolved_by = current_setting('bench.actor'),
    remainder_id = CASE WHEN o.outcome = 'partially_settled' THEN o.remainder_id END
FROM bench_outcome o
WHERE p.id = o.pending_id AND o.outcome <> 'failed';
INSERT INTO pending_entries (id, kind, status, expected_date, description, source_type,
                             source_id, opened_on, created_at, created_by)
SELECT remainder_id, 'settlement', 'open', current_setting('bench.day')::date,
       'Settlement of ' || id || ' (remainder)', 'settlement', id,
       current_setting('bench.day')::date, now(), current_setting('bench.actor')
FROM bench_outcome WHERE outcome = 'partially_settled';
INSERT INTO pending_postings (pending_id, ledger_account, asset, amount)
SELECT remainder_id, ledger_account, asset, remainder
FROM bench_lines WHERE outcome = 'partially_settled' AND remainder <> 0
ORDER BY remainder_id;
INSERT INTO bench_deltas
SELECT ledger_account, asset, day, sum(posted), sum(pending)
FROM (
    SELECT ledger_account, asset, current_setting('bench.day')::date AS day, amount AS posted,
           0 AS pending
    FROM bench_lines
    UNION ALL  -- what was pending leaves, what remains is pending again
    SELECT pp.ledger_account, pp.asset, current_setting('bench.day')::date, 0, -pp.amount
    FROM bench_outcome o JOIN pending_postings pp ON pp.pending_id = o.pending_id
    WHERE o.outcome <> 'failed'
    UNION ALL
    SELECT ledger_account, asset, current_setting('bench.day')::date, 0, remainder
    FROM bench_lines WHERE outcome = 'partially_settled'
) moves
GROUP BY ledger_account, asset, day;

-- include: balances

-- step: instructions settled, partially settled or failed
WITH before AS (
    SELECT si.*, o.outcome, o.settled_quantity AS now_settled, o.settled_amount AS now_paid,
           o.fail_reason AS reason, o.remainder_id AS remainder
    FROM settlement_instructions si JOIN bench_outcome o ON o.id = si.id
), changed AS (
    UPDATE settlement_instructions si
    SET status = CASE WHEN b.outcome = 'failed' THEN si.status ELSE b.outcome END,
        settled_quantity = si.settled_quantity + b.now_settled,
        settled_amount = si.settled_amount + b.now_paid,
        fail_reason = b.reason,
        settled_on = CASE WHEN b.outcome = 'failed' THEN si.settled_on
                          ELSE current_setting('bench.day')::date END,
        pending_id = CASE WHEN b.outcome = 'partially_settled' THEN b.remainder
                          ELSE si.pending_id END,
        last_run_id = (SELECT id FROM bench_run), version = si.version + 1, updated_at = now()
    FROM before b
    WHERE si.id = b.id
    RETURNING si.*
), audited AS (
    INSERT INTO audit_records (occurred_at, actor_key_id, actor_role, actor_name, request_id,
                               entity_type, entity_id, action, before, after, event_type)
    SELECT now(), current_setting('bench.actor'), 'operations', 'bench', NULL,
           'settlement_instruction', c.id, b.outcome,
           to_json(b)::jsonb - 'outcome' - 'now_settled' - 'now_paid' - 'reason' - 'remainder',
           to_json(c), 'settlement_instruction.' || b.outcome
    FROM changed c JOIN before b ON b.id = c.id
    RETURNING id
)
INSERT INTO audit_unsealed (record_id, queued_at) SELECT id, clock_timestamp() FROM audited;

-- step: trades of the settled obligations settled or partially settled
WITH before AS (
    SELECT t.*, o.outcome
    FROM trades t JOIN bench_outcome o ON o.obligation_id = t.obligation_id
    WHERE o.outcome <> 'failed' AND t.status IN ('instructed', 'partially_settled')
), changed AS (
    UPDATE trades t
    SET status = b.outcome, version = t.version + 1, updated_at = now()
    FROM before b
    WHERE t.id = b.id
    RETURNING t.*
), audited AS (
    INSERT INTO audit_records (occurred_at, actor_key_id, actor_role, actor_name, request_id,
                               entity_type, entity_id, action, before, after, event_type)
    SELECT now(), current_setting('bench.actor'), 'operations', 'bench', NULL, 'trade',
           c.id, b.outcome, to_json(b)::jsonb - 'outcome', to_json(c), 'trade.' || b.outcome
    FROM changed c JOIN before b ON b.id = c.id
    RETURNING id
)
INSERT INTO audit_unsealed (record_id, queued_at) SELECT id, clock_timestamp() FROM audited;

-- step: the run completed
WITH before AS (
    SELECT * FROM settlement_runs WHERE id = (SELECT id FROM bench_run)
), counted AS (
    SELECT count(*) AS total, count(*) FILTER (WHERE outcome = 'settled') AS settled,
           count(*) FILTER (WHERE outcome = 'partially_settled') AS partially,
           count(*) FILTER (WHERE outcome = 'failed') AS failed,
           (SELECT json_agg(json_build_object('reason', fail_reason, 'currency', currency,
                                              'instructions', n, 'unsettled_amount', unsettled))
            FROM (SELECT fail_reason, currency, count(*) AS n,
                         sum(amount - settled_amount) AS unsettled
                  FROM bench_outcome WHERE fail_reason IS NOT NULL
                  GROUP BY fail_reason, currency) f) AS fails
    FROM bench_outcome
), changed AS (
    UPDATE settlement_runs r
    SET status = 'completed', total = c.total, processed = c.total, settled = c.settled,
        partially_settled = c.partially, failed = c.failed, finished_at = now(),
        report = json_build_object('settled', c.settled, 'partially_settled', c.partially,
                                   'failed', c.failed, 'fails', coalesce(c.fails, '[]'))
    FROM before b, counted c
    WHERE r.id = b.id
    RETURNING r.*
), audited AS (
    INSERT INTO audit_records (occurred_at, actor_key_id, actor_role, actor_name, request_id,
                               entity_type, entity_id, action, before, after, event_type)
    SELECT now(), current_setting('bench.actor'), 'operations', 'bench', NULL,
           'settlement_run', c.id, 'completed', to_json(b), to_json(c),
           'settlement_run.completed'
    FROM changed c JOIN before b ON b.id = c.id
    RETURNING id
)
INSERT INTO audit_unsealed (record_id, queued_at) SELECT id, clock_timestamp() FROM audited;

-- step: deferred constraints checked (entries balanced, with postings), as at COMMIT
SET CONSTRAINTS ALL IMMEDIATE;
SELECT outcome, count(*) FROM bench_outcome GROUP BY outcome;
