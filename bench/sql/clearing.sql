-- The clearing run's writes for one settlement date, set-based: the baseline of bench.netting.
-- Run in one transaction on a clone of the bench database made just before the app's run.
-- Settings: bench.day (the settlement date), bench.actor (the operations key id), bench.chunk
-- (the trades the app clears per transaction).
-- Writes, as the app does: the run row; obligations (one per netting key) and their lineage;
-- trades confirmed -> cleared (obligation, CCP of record); the novation journal entries (one
-- per chunk of trades, as the app's) with their postings and balances; one instruction per
-- obligation moving something, each with its pending entry, four pending postings and pending
-- balances, and an outbound message where a depository settles; trades cleared -> instructed;
-- the run completed. One audit record (queued for the sealer) per row created or changed.
-- The sealer's hash chain is not written: the app's writers do not write it either.

-- step: start the run
CREATE TEMP TABLE bench_run ON COMMIT DROP AS
SELECT 'clr_' || replace(gen_random_uuid()::text, '-', '') AS id;
CREATE TEMP TABLE bench_deltas (
    ledger_account text, asset text, day date, posted numeric, pending numeric
) ON COMMIT DROP;
WITH run AS (
    INSERT INTO clearing_runs (id, settlement_date, status, total, processed, obligations,
                               instructions, report, created_at, created_by)
    SELECT id, current_setting('bench.day')::date, 'running',
           (SELECT count(*) FROM trades WHERE settlement_date = current_setting('bench.day')::date
                AND status = 'confirmed'),
           0, 0, 0, '{}', now(), current_setting('bench.actor')
    FROM bench_run
    RETURNING *
), audited AS (
    INSERT INTO audit_records (occurred_at, actor_key_id, actor_role, actor_name, request_id,
                               entity_type, entity_id, action, before, after, event_type)
    SELECT now(), current_setting('bench.actor'), 'operations', 'bench', NULL, 'clearing_run',
           id, 'started', NULL, to_json(run), 'clearing_run.started'
    FROM run
    RETURNING id
)
INSERT INTO audit_unsealed (record_id, queued_at) SELECT id, clock_timestamp() FROM audited;

-- step: trades resolved (netting set, counterparty of record, our accounts), locked
CREATE TEMP TABLE bench_resolved ON COMMIT DROP AS
SELECT t.id AS trade_id, t.counterparty_lei AS original,
       CASE WHEN m.ccp IS NOT NULL THEN 'ccp'
            WHEN c.netting = 'bilateral' THEN 'bilateral' ELSE 'gross' END AS netting_set,
       coalesce(ccp.lei, t.counterparty_lei) AS counterparty,
       sa.code AS securities_account, ca.code AS cash_account, t.isin, t.currency,
       t.settlement_date, i.mic,
       CASE WHEN m.ccp IS NULL AND c.netting <> 'bilateral' THEN t.id END AS gross_trade,
       CASE WHEN t.side = 'buy' THEN t.quantity ELSE -t.quantity END AS quantity,
       CASE WHEN t.side = 'buy' THEN -t.net_amount ELSE t.net_amount END AS amount,
       t.quantity AS gross_quantity, t.net_amount AS gross_amount,
       (row_number() OVER (ORDER BY t.id) - 1) / current_setting('bench.chunk')::int AS chunk
FROM trades t
JOIN instruments i ON i.isin = t.isin
JOIN markets m ON m.mic = t.venue
JOIN counterparties c ON c.lei = t.counterparty_lei
LEFT JOIN counterparties ccp ON ccp.bic = m.ccp
JOIN accounts sa ON sa.kind = 'securities' AND sa.markets::jsonb ? i.mic
JOIN accounts ca ON ca.kind = 'cash' AND ca.currency = t.currency
WHERE t.settlement_date = current_setting('bench.day')::date AND t.status = 'confirmed';
SELECT count(*) FROM (
    SELECT 1 FROM trades WHERE id IN (SELECT trade_id FROM bench_resolved) ORDER BY id FOR UPDATE
) locked;
ALTER TABLE bench_resolved ADD COLUMN netting_key text;
UPDATE bench_resolved SET netting_key = concat_ws('|', netting_set, counterparty,
    securities_account, cash_account, isin, currency, settlement_date::text,
    coalesce(gross_trade, ''));
ANALYZE bench_resolved;

-- step: obligations, one per netting key
CREATE TEMP TABLE bench_obligations ON COMMIT DROP AS
WITH made AS (
    INSERT INTO obligations (id, run_id, netting_key, netting_set, counterparty_lei,
                             securities_account, cash_account, isin, currency, settlement_date,
                             net_quantity, net_amount, gross_quantity, gross_amount,
                             trade_count, direction, created_at)
    SELECT 'obl_' || replace(gen_random_uuid()::text, '-', ''), (SELECT id FROM bench_run),
           netting_key, netting_set, counterparty, securities_account, cash_account, isin,
           currency, settlement_date, net_quantity, net_amount, gross_quantity, gross_amount,
           trade_count,
           CASE WHEN net_quantity > 0 THEN 'receive' WHEN net_quantity < 0 THEN 'deliver'
                WHEN net_amount <> 0 THEN 'cash_only' ELSE 'none' END,
           now()
    FROM (
        SELECT netting_key, netting_set, counterparty, securities_account, cash_account, isin,
               currency, settlement_date, sum(quantity) AS net_quantity,
               sum(amount) AS net_amount, sum(gross_quantity) AS gross_quantity,
               sum(gross_amount) AS gross_amount, count(*) AS trade_count
        FROM bench_resolved
        GROUP BY netting_key, netting_set, counterparty, securities_account, cash_account, isin,
                 currency, settlement_date
    ) nets
    RETURNING *
), audited AS (
    INSERT INTO audit_records (occurred_at, actor_key_id, actor_role, actor_name, request_id,
                               entity_type, entity_id, action, before, after, event_type)
    SELECT now(), current_setting('bench.actor'), 'operations', 'bench', NULL, 'obligation',
           id, 'created', NULL, to_json(made), 'obligation.created'
    FROM made
    RETURNING id
), queued AS (
    INSERT INTO audit_unsealed (record_id, queued_at)
    SELECT id, clock_timestamp() FROM audited
)
SELECT * FROM made;
CREATE INDEX ON bench_obligations (netting_key);
ANALYZE bench_obligations;

-- step: lineage, one row per trade
INSERT INTO obligation_trades (trade_id, obligation_id, original_counterparty_lei, novated)
SELECT r.trade_id, o.id, r.original, r.netting_set = 'ccp'
FROM bench_resolved r JOIN bench_obligations o ON o.netting_key = r.netting_key;

-- step: trades confirmed -> cleared
WITH before AS (
    SELECT t.*, o.id AS new_obligation, r.netting_set, r.counterparty
    FROM trades t
    JOIN bench_resolved r ON r.trade_id = t.id
    JOIN bench_obligations o ON o.netting_key = r.netting_key
), changed AS (
    UPDATE trades t
    SET status = 'cleared', version = t.version + 1, updated_at = now(),
        obligation_id = b.new_obligation,
        counterparty_of_record = CASE WHEN b.netting_set = 'ccp' THEN b.counterparty END
    FROM before b
    WHERE t.id = b.id
    RETURNING t.*
), audited AS (
    INSERT INTO audit_records (occurred_at, actor_key_id, actor_role, actor_name, request_id,
                               entity_type, entity_id, action, before, after, event_type)
    SELECT now(), current_setting('bench.actor'), 'operations', 'bench', NULL, 'trade',
           c.id, 'cleared',
           to_json(b)::jsonb - 'new_obligation' - 'netting_set' - 'counterparty', to_json(c),
           'trade.cleared'
    FROM changed c JOIN before b ON b.id = c.id
    RETURNING id
)
INSERT INTO audit_unsealed (record_id, queued_at) SELECT id, clock_timestamp() FROM audited;

-- step: novation to the CCPs, one journal entry per chunk of trades
CREATE TEMP TABLE bench_novations ON COMMIT DROP AS
SELECT chunk, original, counterparty AS ccp, isin AS asset, sum(quantity) AS amount
FROM bench_resolved WHERE netting_set = 'ccp' GROUP BY chunk, original, counterparty, isin
UNION ALL
SELECT chunk, original, counterparty, currency, sum(amount)
FROM bench_resolved WHERE netting_set = 'ccp' GROUP BY chunk, original, counterparty, currency;
DELETE FROM bench_novations WHERE amount = 0;
CREATE TEMP TABLE bench_entries ON COMMIT DROP AS
SELECT chunk, 'je_' || replace(gen_random_uuid()::text, '-', '') AS id
FROM (SELECT DISTINCT chunk FROM bench_novations) chunks;
INSERT INTO journal_entries (id, kind, accounting_date, value_date, effective_at, description,
                             source_type, source_id, reverses_id, pending_id, created_at,
                             created_by)
SELECT e.id, 'novation', greatest(current_date, current_setting('bench.day')::date),
       current_setting('bench.day')::date, NULL,
       'Novation to the CCP (' || (SELECT id FROM bench_run) || ')', 'clearing',
       (SELECT id FROM bench_run), NULL, NULL, now(), current_setting('bench.actor')
FROM bench_entries e;
INSERT INTO bench_deltas
SELECT account, asset, current_setting('bench.day')::date, sum(signed), 0
FROM bench_novations n
CROSS JOIN LATERAL (VALUES ('counterparty:' || n.original, -n.amount),
                           ('counterparty:' || n.ccp, n.amount)) AS line(account, signed)
GROUP BY account, asset;

-- include: balances

-- step: novation postings
INSERT INTO postings (entry_id, ledger_account, asset, amount)
SELECT e.id, account, n.asset, signed
FROM bench_novations n
JOIN bench_entries e USING (chunk)
CROSS JOIN LATERAL (VALUES ('counterparty:' || n.original, -n.amount),
                           ('counterparty:' || n.ccp, n.amount)) AS line(account, signed)
ORDER BY e.id;

-- step: instructions, one per obligation moving something, with their pending entries
CREATE TEMP TABLE bench_instructions ON COMMIT DROP AS
SELECT 'si_' || replace(gen_random_uuid()::text, '-', '') AS id,
       'pe_' || replace(gen_random_uuid()::text, '-', '') AS pending_id,
       o.id AS obligation_id, o.counterparty_lei, o.securities_account, o.cash_account, o.isin,
       o.currency, o.settlement_date, o.net_quantity, o.net_amount, m.settlement_mode,
       m.partial_settlement, o.netting_set = 'ccp' AS ccp,
       (SELECT json_build_object('id', s.id, 'place_of_settlement', s.place_of_settlement,
                                 'agent_bic', s.agent_bic, 'account', s.account)
        FROM ssis s
        WHERE s.counterparty_lei = o.counterparty_lei
          AND (s.mic = i.mic OR s.mic IS NULL)
          AND (s.currency = o.currency OR s.currency IS NULL)
        ORDER BY s.mic IS NULL, s.currency IS NULL LIMIT 1) AS ssi
FROM bench_obligations o
JOIN instruments i ON i.isin = o.isin
JOIN markets m ON m.mic = i.mic
WHERE o.direction <> 'none';
INSERT INTO bench_deltas
SELECT account, asset, current_date, 0, sum(amount)
FROM bench_instructions i
CROSS JOIN LATERAL (VALUES
    ('securities:' || i.securities_account, i.isin, i.net_quantity),
    ('counterparty:' || i.counterparty_lei, i.isin, -i.net_quantity),
    ('cash:' || i.cash_account, i.currency, i.net_amount),
    ('counterparty:' || i.counterparty_lei, i.currency, -i.net_amount)
) AS line(account, asset, amount)
WHERE amount <> 0
GROUP BY account, asset;

-- include: balances

-- step: pending entries, their postings, the instructions
WITH pending AS (
    INSERT INTO pending_entries (id, kind, status, expected_date, description, source_type,
                                 source_id, opened_on, created_at, created_by)
    SELECT pending_id, 'settlement', 'open', settlement_date,
           'Settlement of ' || id || ' due ' || settlement_date, 'settlement', id,
           current_date, now(), current_setting('bench.actor')
    FROM bench_instructions
    RETURNING id
)
SELECT count(*) FROM pending;
INSERT INTO pending_postings (pending_id, ledger_account, asset, amount)
SELECT i.pending_id, line.account, line.asset, line.amount
FROM bench_instructions i
CROSS JOIN LATERAL (VALUES
    ('securities:' || i.securities_account, i.isin, i.net_quantity),
    ('counterparty:' || i.counterparty_lei, i.isin, -i.net_quantity),
    ('cash:' || i.cash_account, i.currency, i.net_amount),
    ('counterparty:' || i.counterparty_lei, i.currency, -i.net_amount)
) AS line(account, asset, amount)
WHERE line.amount <> 0
ORDER BY i.pending_id;
WITH made AS (
    INSERT INTO settlement_instructions (
        id, obligation_id, delivery_type, isin, quantity, amount, credit_debit, currency,
        securities_account, cash_account, counterparty_lei, ccp, counterparty_ssi,
        intended_settlement_date, priority, partial_allowed, status, repair_reasons,
        settled_quantity, settled_amount, version, created_at, updated_at, pending_id,
        partial_indicator)
    SELECT id, obligation_id,
           CASE WHEN net_quantity > 0 THEN CASE WHEN net_amount <> 0 THEN 'RVP' ELSE 'RFP' END
                WHEN net_quantity < 0 THEN CASE WHEN net_amount <> 0 THEN 'DVP' ELSE 'DFP' END
                ELSE 'PFOD' END,
           isin, abs(net_quantity), abs(net_amount),
           CASE WHEN net_amount > 0 THEN 'CRDT' WHEN net_amount < 0 THEN 'DBIT' END,
           currency, securities_account, cash_account, counterparty_lei, ccp, ssi,
           settlement_date, 50, partial_settlement <> 'NPAR',
           CASE WHEN ssi IS NULL THEN 'repair'
                WHEN ccp OR settlement_mode = 'internal' THEN 'matched' ELSE 'instructed' END,
           '[]', 0, 0, 1, now(), now(), pending_id, partial_settlement
    FROM bench_instructions
    RETURNING *
), audited AS (
    INSERT INTO audit_records (occurred_at, actor_key_id, actor_role, actor_name, request_id,
                               entity_type, entity_id, action, before, after, event_type)
    SELECT now(), current_setting('bench.actor'), 'operations', 'bench', NULL,
           'settlement_instruction', id, 'created', NULL, to_json(made),
           'settlement_instruction.created'
    FROM made
    RETURNING id
)
INSERT INTO audit_unsealed (record_id, queued_at) SELECT id, clock_timestamp() FROM audited;

-- step: outbound messages where a depository settles
WITH made AS (
    INSERT INTO outbound_messages (id, instruction_id, kind, format, reference,
                                   related_reference, content, status, status_reasons,
                                   created_at, version)
    SELECT 'om_' || replace(gen_random_uuid()::text, '-', ''), i.id, 'new',
           CASE WHEN i.net_quantity > 0 THEN 'MT541' ELSE 'MT543' END, reference, NULL,
           format(E':16R:GENL\r\n:20C::SEME//%s\r\n:23G:NEWM\r\n:16S:GENL\r\n:16R:TRADDET\r\n'
                  ':98A::SETT//%s\r\n:35B:ISIN %s\r\n:16S:TRADDET\r\n:16R:FIAC\r\n'
                  ':36B::SETT//UNIT/%s,\r\n:97A::SAFE//%s\r\n:16S:FIAC\r\n:16R:SETDET\r\n'
                  ':22F::SETR//TRAD\r\n:22F::STCO//%s\r\n:22F::PRIR//0050\r\n'
                  ':16R:SETPRTY\r\n:95P::PSET//%s\r\n:16S:SETPRTY\r\n:16R:SETPRTY\r\n'
                  ':95P::REAG//%s\r\n:97A::SAFE//%s\r\n:16S:SETPRTY\r\n:16R:AMT\r\n'
                  ':19A::SETT//%s%s\r\n:16S:AMT\r\n:16S:SETDET\r\n',
                  reference, to_char(i.settlement_date, 'YYYYMMDD'), i.isin,
                  abs(i.net_quantity), i.securities_account, i.partial_settlement,
                  i.ssi ->> 'place_of_settlement', i.ssi ->> 'agent_bic', i.ssi ->> 'account',
                  i.currency, replace(abs(i.net_amount)::text, '.', ',')),
           'pending', '[]', now(), 1
    FROM (SELECT *, upper(substr(replace(id, 'si_', ''), 1, 16)) AS reference
          FROM bench_instructions
          WHERE settlement_mode = 'csd' AND ssi IS NOT NULL) i
    RETURNING *
), audited AS (
    INSERT INTO audit_records (occurred_at, actor_key_id, actor_role, actor_name, request_id,
                               entity_type, entity_id, action, before, after, event_type)
    SELECT now(), current_setting('bench.actor'), 'operations', 'bench', NULL,
           'outbound_message', id, 'created', NULL, to_json(made), 'outbound_message.created'
    FROM made
    RETURNING id
)
INSERT INTO audit_unsealed (record_id, queued_at) SELECT id, clock_timestamp() FROM audited;

-- step: trades cleared -> instructed
WITH before AS (
    SELECT t.* FROM trades t JOIN bench_resolved r ON r.trade_id = t.id
    WHERE t.obligation_id NOT IN (
        SELECT si.obligation_id FROM settlement_instructions si
        JOIN bench_instructions b ON b.id = si.id WHERE si.status = 'repair')
), changed AS (
    UPDATE trades t
    SET status = 'instructed', version = t.version + 1, updated_at = now()
    FROM before b
    WHERE t.id = b.id
    RETURNING t.*
), audited AS (
    INSERT INTO audit_records (occurred_at, actor_key_id, actor_role, actor_name, request_id,
                               entity_type, entity_id, action, before, after, event_type)
    SELECT now(), current_setting('bench.actor'), 'operations', 'bench', NULL, 'trade',
           c.id, 'instructed', to_json(b), to_json(c), 'trade.instructed'
    FROM changed c JOIN before b ON b.id = c.id
    RETURNING id
)
INSERT INTO audit_unsealed (record_id, queued_at) SELECT id, clock_timestamp() FROM audited;

-- step: the run completed
WITH before AS (
    SELECT * FROM clearing_runs WHERE id = (SELECT id FROM bench_run)
), changed AS (
    UPDATE clearing_runs r
    SET status = 'completed', processed = r.total, finished_at = now(),
        obligations = (SELECT count(*) FROM bench_obligations),
        instructions = (SELECT count(*) FROM bench_instructions),
        report = (SELECT json_build_object('trades', sum(trade_count), 'obligations', count(*),
                                           'by_counterparty', json_agg(json_build_object(
                                               'netting_set', netting_set,
                                               'counterparty_lei', counterparty_lei,
                                               'currency', currency,
                                               'trades', trade_count,
                                               'net_value', abs(net_amount))))
                  FROM bench_obligations)
    FROM before b
    WHERE r.id = b.id
    RETURNING r.*
), audited AS (
    INSERT INTO audit_records (occurred_at, actor_key_id, actor_role, actor_name, request_id,
                               entity_type, entity_id, action, before, after, event_type)
    SELECT now(), current_setting('bench.actor'), 'operations', 'bench', NULL, 'clearing_run',
           c.id, 'completed', to_json(b), to_json(c), 'clearing_run.completed'
    FROM changed c JOIN before b ON b.id = c.id
    RETURNING id
)
INSERT INTO audit_unsealed (record_id, queued_at) SELECT id, clock_timestamp() FROM audited;

-- step: deferred constraints checked (entries balanced, with postings), as at COMMIT
SET CONSTRAINTS ALL IMMEDIATE;
