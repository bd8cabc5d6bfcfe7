-- The cash reconciliation run's writes for one account and value date, set-based: the baseline
-- of bench.reconciliation. Run in one transaction on a clone of the bench database made just
-- before the app's run.
-- Settings: bench.day (the value date), bench.account (our cash account's code), bench.actor
-- (the operations key id).
-- Reads as the run does: the account's booked lines of its end-of-day statements dated the day
-- and the book's live movements on its cash ledger account of that value date, plus the items
-- of its open cash breaks, less every item an active match holds; references (the bank's, and
-- ids of ours in remittance text) against the movement's journal entry id and source id;
-- counterparties compared as the engine does (case, spaces and punctuation ignored; a line's
-- account or name as the LEI of a counterparty of ours that answers to it).
-- Matches by the enabled rules in priority order, each over what the earlier ones left:
-- exact reference (pairs sharing a reference no more than max_candidates movements carry;
-- where pairs compete for an item, the pairs closest both ways), amount / date / counterparty
-- (the one fitting movement of a line whose one fitting line it is, sharing no reference), and
-- one-to-many / many-to-one (the first subset in the engine's depth-first order, by a recursive
-- enumeration; more than max_candidates candidates is given up, as the engine does). Where the
-- engine decides item by item (a group's parts taken by an earlier single are not offered to a
-- later one; a chain of competing reference pairs; the search budget) this script takes the
-- simpler set-based reading: on the bench's data both decide the same, and the bench checks it.
-- Writes, as the app does: the run row; matches and their matched items; the breaks found
-- (missing in book, missing at bank, amount and value-date differences of pairs sharing a
-- reference, statement integrity, the closing balance against the book's settled cash), new
-- ones inserted, closed ones found again reopened, carried ones the run explains closed; the
-- run completed with its counts and report. One audit record (queued for the sealer) per row
-- created or changed. The sealer's hash chain is not written: the app's writers do not write
-- it either.

-- step: start the run
CREATE TEMP TABLE bench_run ON COMMIT DROP AS
SELECT 'rcn_' || replace(gen_random_uuid()::text, '-', '') AS id,
       current_setting('bench.account') AS account, current_setting('bench.day')::date AS day,
       current_setting('bench.actor') AS actor;
WITH run AS (
    INSERT INTO reconciliation_runs (id, status, total, processed, report, created_at,
                                     created_by, heartbeat_at, account, value_date, matched,
                                     breaks_opened, breaks_closed)
    SELECT id, 'running', 0, 0, '{"account_kind": "cash"}', now(), actor, now(), account, day,
           0, 0, 0
    FROM bench_run
    RETURNING *
), audited AS (
    INSERT INTO audit_records (occurred_at, actor_key_id, actor_role, actor_name, request_id,
                               entity_type, entity_id, action, before, after, event_type)
    SELECT now(), current_setting('bench.actor'), 'operations', 'bench', NULL,
           'reconciliation_run', id, 'started', NULL, to_json(run), 'reconciliation_run.started'
    FROM run
    RETURNING id
)
INSERT INTO audit_unsealed (record_id, queued_at) SELECT id, clock_timestamp() FROM audited;

-- step: the account locked; lines, movements and their references
SELECT pg_advisory_xact_lock(hashtext('reconciliation:' || current_setting('bench.account')));
CREATE TEMP TABLE bench_carried ON COMMIT DROP AS
SELECT b.* FROM reconciliation_breaks b, bench_run r
WHERE b.status = 'open' AND b.account = r.account AND b.value_date <= r.day
  AND b.kind IN ('missing_in_book', 'missing_at_bank', 'amount_difference',
                 'value_date_difference');
CREATE TEMP TABLE bench_counterparty_keys ON COMMIT DROP AS
SELECT DISTINCT ON (key) key, lei
FROM (SELECT c.lei, lower(regexp_replace(n.name, '[^[:alnum:]]', '', 'g')) AS key
      FROM counterparties c,
           LATERAL (VALUES (1, c.lei), (2, c.name), (3, c.bic), (4, left(c.bic, 8))) AS n(o, name)
      WHERE n.name IS NOT NULL) k
WHERE key <> ''
ORDER BY key, lei;
CREATE TEMP TABLE bench_lines ON COMMIT DROP AS
SELECT s.id, s.bank_statement_id AS statement, b.currency, s.amount,
       coalesce(s.value_date, s.booking_date, '0001-01-01'::date) AS value_date,
       coalesce(s.booking_date, s.value_date, '0001-01-01'::date) AS since,
       coalesce(cp.lei, nullif(s.counterparty_name, ''), nullif(s.counterparty_account, ''))
           AS counterparty,
       EXISTS (SELECT 1 FROM matched_items i WHERE i.item_kind = 'line' AND i.item_id = s.id)
           AS held
FROM statement_entries s
JOIN bank_statements b ON b.id = s.bank_statement_id
CROSS JOIN bench_run r
LEFT JOIN LATERAL (
    SELECT k.lei FROM (VALUES (1, s.counterparty_account), (2, s.counterparty_name)) AS g(o, v)
    JOIN bench_counterparty_keys k ON k.key = lower(regexp_replace(g.v, '[^[:alnum:]]', '', 'g'))
    ORDER BY g.o LIMIT 1
) cp ON true
WHERE ((s.account = r.account AND s.entry_date = r.day AND s.status = 'booked'
        AND b.kind = 'statement')
       OR s.id IN (SELECT json_array_elements_text(statement_entry_ids) FROM bench_carried));
ALTER TABLE bench_lines ADD COLUMN matched boolean;
UPDATE bench_lines SET matched = held;  -- an item a match holds already is matched
ALTER TABLE bench_lines ADD COLUMN party text;
UPDATE bench_lines SET party = nullif(lower(regexp_replace(counterparty, '[^[:alnum:]]', '', 'g')),
                                      '');
CREATE TEMP TABLE bench_movements ON COMMIT DROP AS
SELECT j.id, j.source_id, p.asset AS currency, p.amount, j.value_date,
       (SELECT substr(min(c.ledger_account), length('counterparty:') + 1) FROM postings c
        WHERE c.entry_id = j.id AND c.ledger_account LIKE 'counterparty:%') AS counterparty,
       EXISTS (SELECT 1 FROM matched_items i WHERE i.item_kind = 'movement' AND i.item_id = j.id)
           AS held
FROM journal_entries j
JOIN postings p ON p.entry_id = j.id
CROSS JOIN bench_run r
WHERE p.ledger_account = 'cash:' || r.account
  AND (j.value_date = r.day
       OR (j.id IN (SELECT json_array_elements_text(movement_ids) FROM bench_carried)
           AND j.value_date IN (SELECT since FROM bench_carried
                                UNION SELECT value_date FROM bench_carried)))
  AND j.reverses_id IS NULL
  AND NOT EXISTS (SELECT 1 FROM journal_entries x WHERE x.reverses_id = j.id);
ALTER TABLE bench_movements ADD COLUMN matched boolean;
UPDATE bench_movements SET matched = held;
ALTER TABLE bench_movements ADD COLUMN party text;
UPDATE bench_movements SET party = nullif(lower(regexp_replace(counterparty, '[^[:alnum:]]', '',
                                                                'g')), '');
CREATE UNIQUE INDEX ON bench_lines (id);
CREATE UNIQUE INDEX ON bench_movements (id);
CREATE TEMP TABLE bench_line_refs ON COMMIT DROP AS
SELECT DISTINCT l.id, trim(v.ref) AS ref
FROM bench_lines l
JOIN statement_entries s ON s.id = l.id AND NOT l.held
CROSS JOIN LATERAL (
    SELECT value FROM json_each_text(s.references)
    UNION ALL VALUES (s.end_to_end_id), (s.instruction_id), (s.account_servicer_reference),
                     (s.uetr)
    UNION ALL SELECT m[1] FROM regexp_matches(coalesce(s.remittance_information, ''),
                                              '\m([a-z]{2,5}_[0-9a-z]{26})\M', 'g') AS m
) AS v(ref)
WHERE trim(v.ref) <> '';
CREATE TEMP TABLE bench_movement_refs ON COMMIT DROP AS
SELECT DISTINCT id, ref FROM (
    SELECT id, id AS ref FROM bench_movements WHERE NOT held
    UNION ALL SELECT id, source_id FROM bench_movements WHERE source_id IS NOT NULL AND NOT held
) r;
CREATE INDEX ON bench_movement_refs (ref);
ANALYZE bench_lines;
ANALYZE bench_movements;
ANALYZE bench_line_refs;
ANALYZE bench_movement_refs;

-- step: pairs sharing a reference, by each reference they share
CREATE TEMP TABLE bench_pairs ON COMMIT DROP AS
SELECT lr.id AS line_id, mr.id AS movement_id, lr.ref
FROM bench_line_refs lr JOIN bench_movement_refs mr ON mr.ref = lr.ref;
CREATE INDEX ON bench_pairs (line_id, movement_id);
ANALYZE bench_pairs;
-- The pairs of free items through a reference no more than ``crowd`` free movements carry (a
-- reference more carry is a generic word: the engine does not follow it).
CREATE FUNCTION pg_temp.bench_followed(crowd int) RETURNS TABLE (line_id text, movement_id text)
LANGUAGE sql AS $$
    WITH carried AS (
        SELECT mr.ref, count(*) AS movements
        FROM bench_movement_refs mr JOIN bench_movements m ON m.id = mr.id AND NOT m.matched
        GROUP BY mr.ref
    )
    SELECT DISTINCT p.line_id, p.movement_id
    FROM bench_pairs p
    JOIN carried c ON c.ref = p.ref AND c.movements <= crowd
    JOIN bench_lines l ON l.id = p.line_id AND NOT l.matched
    JOIN bench_movements m ON m.id = p.movement_id AND NOT m.matched
$$;
CREATE TEMP TABLE bench_matches (
    rule text, line_ids text[], movement_ids text[], currency text, amount_difference numeric,
    value_date_difference int
) ON COMMIT DROP;
CREATE TEMP TABLE bench_gave_up (rule text, item_id text, reason text) ON COMMIT DROP;
-- A group rule's work: its singles and parts, the candidates of each single in the engine's
-- order, the subset chosen, the parts taken.
CREATE TEMP TABLE bench_singles (id text, currency text, amount numeric, value_date date,
                                 party text) ON COMMIT DROP;
CREATE TEMP TABLE bench_parts (LIKE bench_singles) ON COMMIT DROP;
CREATE TEMP TABLE bench_candidates (single text, part text, idx bigint, value numeric,
                                    target numeric, tolerance numeric, candidates bigint)
    ON COMMIT DROP;
CREATE TEMP TABLE bench_chosen (single text, idxs bigint[]) ON COMMIT DROP;
CREATE TEMP TABLE bench_groups (single text, parts text[]) ON COMMIT DROP;

-- step: the rules, in priority order, each over what the earlier ones left
DO $rules$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT * FROM reconciliation_rules WHERE enabled ORDER BY priority, name LOOP
        IF r.kind = 'exact_reference' THEN
            INSERT INTO bench_matches
            SELECT r.name, ARRAY[line_id], ARRAY[movement_id], currency, l_amount - m_amount,
                   l_date - m_date
            FROM (
                SELECT p.line_id, p.movement_id, l.currency, l.amount AS l_amount,
                       m.amount AS m_amount, l.value_date AS l_date, m.value_date AS m_date,
                       row_number() OVER (PARTITION BY p.line_id ORDER BY abs(l.amount - m.amount),
                           abs(l.value_date - m.value_date), p.movement_id COLLATE "C") AS by_line,
                       row_number() OVER (PARTITION BY p.movement_id ORDER BY
                           abs(l.amount - m.amount), abs(l.value_date - m.value_date),
                           p.line_id COLLATE "C") AS by_movement
                FROM pg_temp.bench_followed(r.max_candidates) p
                JOIN bench_lines l ON l.id = p.line_id
                JOIN bench_movements m ON m.id = p.movement_id
                WHERE l.currency = m.currency
                  AND abs(l.amount - m.amount) <= coalesce(
                      (r.amount_tolerance::jsonb ->> l.currency)::numeric,
                      r.default_amount_tolerance)
                  AND abs(l.value_date - m.value_date) <= r.value_date_days
                  AND (NOT r.counterparty_must_agree OR l.party = m.party)
            ) fits
            WHERE by_line = 1 AND by_movement = 1;
            INSERT INTO bench_gave_up
            SELECT DISTINCT ON (l.id) r.name, l.id, format(
                'more than %s candidates (reference %L)', r.max_candidates, lr.ref)
            FROM bench_lines l
            JOIN bench_line_refs lr ON lr.id = l.id
            JOIN (SELECT mr.ref FROM bench_movement_refs mr
                  JOIN bench_movements m ON m.id = mr.id AND NOT m.matched
                  GROUP BY mr.ref HAVING count(*) > r.max_candidates) crowded
              ON crowded.ref = lr.ref
            WHERE NOT l.matched AND NOT EXISTS (
                SELECT 1 FROM bench_matches x WHERE x.rule = r.name AND l.id = ANY (x.line_ids))
            ORDER BY l.id, lr.ref COLLATE "C";
        ELSIF r.kind = 'amount_date_counterparty' THEN
            INSERT INTO bench_matches
            SELECT r.name, ARRAY[line_id], ARRAY[movement_id], currency, l_amount - m_amount,
                   l_date - m_date
            FROM (
                SELECT l.id AS line_id, m.id AS movement_id, l.currency, l.amount AS l_amount,
                       m.amount AS m_amount, l.value_date AS l_date, m.value_date AS m_date,
                       count(*) OVER (PARTITION BY l.id) AS per_line,
                       count(*) OVER (PARTITION BY m.id) AS per_movement
                FROM bench_lines l
                JOIN bench_movements m
                  ON m.currency = l.currency AND NOT m.matched
                 AND (NOT r.counterparty_must_agree OR m.party = l.party)
                 AND abs(l.amount - m.amount) <= coalesce(
                     (r.amount_tolerance::jsonb ->> l.currency)::numeric,
                     r.default_amount_tolerance)
                 AND abs(l.value_date - m.value_date) <= r.value_date_days
                WHERE NOT l.matched
                  AND NOT EXISTS (SELECT 1 FROM bench_pairs p
                                  WHERE p.line_id = l.id AND p.movement_id = m.id)
            ) fits
            WHERE per_line = 1 AND per_movement = 1;
        ELSE  -- one_to_many: a line against movements; many_to_one: a movement against lines
            TRUNCATE bench_singles, bench_parts, bench_candidates, bench_chosen, bench_groups;
            INSERT INTO bench_singles
            SELECT id, currency, amount, value_date, party FROM bench_lines
            WHERE r.kind = 'one_to_many' AND NOT matched
            UNION ALL
            SELECT id, currency, amount, value_date, party FROM bench_movements
            WHERE r.kind = 'many_to_one' AND NOT matched;
            INSERT INTO bench_parts
            SELECT id, currency, amount, value_date, party FROM bench_movements
            WHERE r.kind = 'one_to_many' AND NOT matched
            UNION ALL
            SELECT id, currency, amount, value_date, party FROM bench_lines
            WHERE r.kind = 'many_to_one' AND NOT matched;
            INSERT INTO bench_candidates
            SELECT s.id AS single, p.id AS part,
                   row_number() OVER (PARTITION BY s.id ORDER BY abs(p.amount) DESC,
                                                   p.id COLLATE "C") AS idx,
                   abs(p.amount) AS value, abs(s.amount) AS target,
                   coalesce((r.amount_tolerance::jsonb ->> s.currency)::numeric,
                            r.default_amount_tolerance) AS tolerance,
                   count(*) OVER (PARTITION BY s.id) AS candidates
            FROM bench_singles s
            JOIN bench_parts p
              ON p.currency = s.currency AND sign(p.amount) = sign(s.amount)
             AND (NOT r.counterparty_must_agree OR p.party = s.party)
             AND abs(p.value_date - s.value_date) <= r.value_date_days
             AND abs(p.amount) <= abs(s.amount) + coalesce(
                 (r.amount_tolerance::jsonb ->> s.currency)::numeric, r.default_amount_tolerance)
            WHERE s.amount <> 0 AND p.amount <> 0
              AND (NOT r.counterparty_must_agree OR s.party IS NOT NULL);
            INSERT INTO bench_gave_up
            SELECT DISTINCT r.name, single, format('more than %s candidates (%s)',
                                                   r.max_candidates, candidates)
            FROM bench_candidates WHERE candidates > r.max_candidates;
            DELETE FROM bench_candidates WHERE candidates > r.max_candidates OR candidates < 2;
            INSERT INTO bench_chosen
            WITH RECURSIVE combos(single, last, idxs, total, target, tolerance) AS (
                SELECT single, idx, ARRAY[idx], value, target, tolerance FROM bench_candidates
                WHERE value <= target + tolerance
                UNION ALL
                SELECT c.single, c.idx, k.idxs || c.idx, k.total + c.value, k.target,
                       k.tolerance
                FROM combos k JOIN bench_candidates c ON c.single = k.single AND c.idx > k.last
                WHERE cardinality(k.idxs) < r.max_group_size
                  AND k.total + c.value <= k.target + k.tolerance
            )
            SELECT DISTINCT ON (single) single, idxs FROM combos
            WHERE cardinality(idxs) >= 2 AND total >= target - tolerance
            ORDER BY single, idxs;
            INSERT INTO bench_groups
            SELECT ch.single, array_agg(c.part ORDER BY c.part COLLATE "C") AS parts
            FROM bench_chosen ch JOIN bench_candidates c
              ON c.single = ch.single AND c.idx = ANY (ch.idxs)
            GROUP BY ch.single;
            DELETE FROM bench_groups g WHERE EXISTS (  -- parts an earlier single took
                SELECT 1 FROM bench_groups e
                WHERE e.single COLLATE "C" < g.single AND e.parts && g.parts);
            INSERT INTO bench_matches
            SELECT r.name, CASE WHEN r.kind = 'one_to_many' THEN ARRAY[g.single] ELSE g.parts END,
                   CASE WHEN r.kind = 'one_to_many' THEN g.parts ELSE ARRAY[g.single] END
            FROM bench_groups g;
            UPDATE bench_matches x  -- the lines' sum less the movements', the widest date gap
            SET currency = (SELECT currency FROM bench_lines WHERE id = x.line_ids[1]),
                amount_difference =
                    (SELECT sum(amount) FROM bench_lines WHERE id = ANY (x.line_ids))
                    - (SELECT sum(amount) FROM bench_movements WHERE id = ANY (x.movement_ids)),
                value_date_difference = (
                    SELECT l.value_date - m.value_date
                    FROM bench_lines l, bench_movements m
                    WHERE l.id = ANY (x.line_ids) AND m.id = ANY (x.movement_ids)
                    ORDER BY abs(l.value_date - m.value_date) DESC, l.value_date - m.value_date DESC
                    LIMIT 1)
            WHERE x.rule = r.name;
        END IF;
        UPDATE bench_lines l SET matched = true
        FROM (SELECT unnest(line_ids) AS id FROM bench_matches WHERE rule = r.name) x
        WHERE x.id = l.id;
        UPDATE bench_movements m SET matched = true
        FROM (SELECT unnest(movement_ids) AS id FROM bench_matches WHERE rule = r.name) x
        WHERE x.id = m.id;
    END LOOP;
END
$rules$;

-- step: matches stored, with their matched items
CREATE TEMP TABLE bench_stored ON COMMIT DROP AS
SELECT 'mch_' || replace(gen_random_uuid()::text, '-', '') AS id, m.*,
       '[' || array_to_json(m.line_ids)::text || ',' || array_to_json(m.movement_ids)::text
           || ']' AS key
FROM bench_matches m;
WITH stored AS (
    INSERT INTO reconciliation_matches (id, account, value_date, rule, status, key,
                                        statement_entry_ids, movement_ids, currency,
                                        amount_difference, value_date_difference, run_id,
                                        comment, created_at, created_by, unmatched_at,
                                        unmatched_by, unmatch_reason, version)
    SELECT s.id, r.account, r.day, s.rule, 'active', s.key, array_to_json(s.line_ids),
           array_to_json(s.movement_ids), s.currency, s.amount_difference,
           s.value_date_difference, r.id, NULL, now(), r.actor, NULL, NULL, NULL, 1
    FROM bench_stored s CROSS JOIN bench_run r
    RETURNING *
), audited AS (
    INSERT INTO audit_records (occurred_at, actor_key_id, actor_role, actor_name, request_id,
                               entity_type, entity_id, action, before, after, event_type)
    SELECT now(), current_setting('bench.actor'), 'operations', 'bench', NULL,
           'reconciliation_match', id, 'matched', NULL, to_json(stored),
           'reconciliation_match.matched'
    FROM stored
    RETURNING id
)
INSERT INTO audit_unsealed (record_id, queued_at) SELECT id, clock_timestamp() FROM audited;
INSERT INTO matched_items (item_kind, item_id, match_id)
SELECT 'line', unnest(line_ids), id FROM bench_stored
UNION ALL
SELECT 'movement', unnest(movement_ids), id FROM bench_stored;

-- step: breaks found: pairs sharing a reference that differ, lines and movements left alone
CREATE TEMP TABLE bench_found ON COMMIT DROP AS
WITH exact AS (
    SELECT * FROM reconciliation_rules WHERE enabled AND kind = 'exact_reference'
), widest AS (  -- the widest tolerances of the exact-reference rules
    SELECT coalesce(max(value_date_days), 0) AS days, coalesce(max(max_candidates), 30) AS crowd
    FROM exact
), pairs AS (
    SELECT p.line_id, p.movement_id, l.currency, l.amount, l.amount - m.amount AS difference,
           least(l.since, m.value_date) AS since, l.statement,
           abs(l.amount - m.amount) AS distance, abs(l.value_date - m.value_date) AS gap,
           CASE WHEN abs(l.amount - m.amount) > coalesce((
                    SELECT max(coalesce((e.amount_tolerance::jsonb ->> l.currency)::numeric,
                                        e.default_amount_tolerance)) FROM exact e), 0)
                THEN 'amount_difference'
                WHEN abs(l.value_date - m.value_date) > w.days THEN 'value_date_difference'
           END AS kind
    FROM widest w
    CROSS JOIN LATERAL pg_temp.bench_followed(w.crowd::int) p
    JOIN bench_lines l ON l.id = p.line_id
    JOIN bench_movements m ON m.id = p.movement_id
    WHERE l.currency = m.currency
), paired AS (
    SELECT * FROM (
        SELECT *, row_number() OVER (PARTITION BY line_id
                                     ORDER BY distance, gap, movement_id COLLATE "C") AS by_line,
                  row_number() OVER (PARTITION BY movement_id
                                     ORDER BY distance, gap, line_id COLLATE "C") AS by_movement
        FROM pairs WHERE kind IS NOT NULL
    ) ranked
    WHERE by_line = 1 AND by_movement = 1
)
SELECT kind, ARRAY[line_id] AS line_ids, ARRAY[movement_id] AS movement_ids, currency,
       CASE WHEN kind = 'amount_difference' THEN difference ELSE amount END AS amount, since,
       statement
FROM paired
UNION ALL
SELECT 'missing_in_book', ARRAY[l.id], '{}'::text[], l.currency, l.amount, l.since, l.statement
FROM bench_lines l WHERE NOT l.matched AND l.id NOT IN (SELECT line_id FROM paired)
UNION ALL
SELECT 'missing_at_bank', '{}'::text[], ARRAY[m.id], m.currency, m.amount, m.value_date, NULL
FROM bench_movements m WHERE NOT m.matched AND m.id NOT IN (SELECT movement_id FROM paired);
ALTER TABLE bench_found ADD COLUMN key text, ADD COLUMN detail text;
UPDATE bench_found
SET key = kind || ':[' || array_to_json(line_ids)::text || ','
          || array_to_json(movement_ids)::text || ']',
    detail = replace(kind, '_', ' ') || ': ' || amount::text || ' ' || currency || ' ('
             || array_to_string(line_ids || movement_ids, ', ') || ')';
INSERT INTO bench_found (kind, line_ids, movement_ids, currency, amount, since, statement, key,
                         detail)
SELECT 'integrity', '{}', '{}', b.currency,
       CASE WHEN f ->> 'found' ~ '^-?[0-9]+(\.[0-9]+)?$'
             AND f ->> 'expected' ~ '^-?[0-9]+(\.[0-9]+)?$'
            THEN (f ->> 'found')::numeric - (f ->> 'expected')::numeric ELSE 0 END,
       r.day, b.id, 'integrity:' || b.id || ':' || (f ->> 'kind'),
       'Statement ' || b.statement_id || ' (' || b.id || '): ' || coalesce(f ->> 'message', '')
FROM bank_statements b
CROSS JOIN bench_run r
CROSS JOIN LATERAL json_array_elements(b.integrity_breaks) AS f
WHERE b.account = r.account AND b.statement_date = r.day AND b.integrity = 'breaks';
CREATE TEMP TABLE bench_balance ON COMMIT DROP AS
WITH closing AS (
    SELECT b.id, b.currency, b.closing_booked_amount AS amount
    FROM bank_statements b, bench_run r
    WHERE b.account = r.account AND b.kind = 'statement' AND b.closing_booked_date = r.day
      AND b.closing_booked_amount IS NOT NULL
    ORDER BY b.sequence DESC NULLS LAST, b.received_at DESC, b.id DESC
    LIMIT 1
)
SELECT c.id, c.currency, c.amount AS statement, coalesce((
           SELECT sum(d.posted) FROM ledger_balances lb
           JOIN ledger_balance_days d ON d.balance_id = lb.id AND d.as_of_date = (
               SELECT max(x.as_of_date) FROM ledger_balance_days x
               WHERE x.balance_id = lb.id AND x.as_of_date <= r.day)
           WHERE lb.ledger_account = 'cash:' || r.account AND lb.asset = c.currency), 0) AS book
FROM closing c CROSS JOIN bench_run r;
INSERT INTO bench_found (kind, line_ids, movement_ids, currency, amount, since, statement, key,
                         detail)
SELECT 'balance', '{}', '{}', b.currency, b.statement - b.book, r.day, b.id,
       'balance:' || r.account || ':' || b.currency || ':' || r.day::text,
       'Closing booked balance ' || b.statement::text || ' ' || b.currency || ' on ' || r.day
           || ', the book''s settled cash ' || b.book::text
FROM bench_balance b CROSS JOIN bench_run r
WHERE b.statement <> b.book;

-- step: breaks stored: new ones opened, closed ones found again reopened
ALTER TABLE bench_found ADD COLUMN id text, ADD COLUMN was text;
UPDATE bench_found f SET id = b.id, was = b.status
FROM reconciliation_breaks b WHERE b.key = f.key;
UPDATE bench_found SET id = 'brk_' || replace(gen_random_uuid()::text, '-', '')
WHERE id IS NULL;
WITH opened AS (
    INSERT INTO reconciliation_breaks (id, kind, status, key, account, currency, isin, amount,
                                       since, value_date, detail, statement_id,
                                       statement_entry_ids, movement_ids, owner, found_by_run,
                                       resolution, resolution_note, closed_by, adjustment_id,
                                       created_at, updated_at, resolved_at, resolved_by,
                                       version)
    SELECT f.id, f.kind, 'open', f.key, r.account, f.currency, NULL, f.amount, f.since, r.day,
           left(f.detail, 1000), f.statement, array_to_json(f.line_ids),
           array_to_json(f.movement_ids), NULL, r.id, NULL, NULL, NULL, NULL, now(), now(),
           NULL, NULL, 1
    FROM bench_found f CROSS JOIN bench_run r
    WHERE f.was IS NULL
    RETURNING *
), audited AS (
    INSERT INTO audit_records (occurred_at, actor_key_id, actor_role, actor_name, request_id,
                               entity_type, entity_id, action, before, after, event_type)
    SELECT now(), current_setting('bench.actor'), 'operations', 'bench', NULL,
           'reconciliation_break', id, 'opened', NULL, to_json(opened),
           'reconciliation_break.opened'
    FROM opened
    RETURNING id
)
INSERT INTO audit_unsealed (record_id, queued_at) SELECT id, clock_timestamp() FROM audited;
WITH before AS (
    SELECT b.* FROM reconciliation_breaks b JOIN bench_found f ON f.id = b.id
    WHERE f.was = 'closed'
), changed AS (
    UPDATE reconciliation_breaks b
    SET status = 'open', resolution = NULL, resolution_note = NULL, closed_by = NULL,
        resolved_at = NULL, resolved_by = NULL, found_by_run = (SELECT id FROM bench_run),
        updated_at = now(), version = b.version + 1
    FROM before x WHERE b.id = x.id
    RETURNING b.*
), audited AS (
    INSERT INTO audit_records (occurred_at, actor_key_id, actor_role, actor_name, request_id,
                               entity_type, entity_id, action, before, after, event_type)
    SELECT now(), current_setting('bench.actor'), 'operations', 'bench', NULL,
           'reconciliation_break', c.id, 'reopened', to_json(x), to_json(c),
           'reconciliation_break.reopened'
    FROM changed c JOIN before x ON x.id = c.id
    RETURNING id
)
INSERT INTO audit_unsealed (record_id, queued_at) SELECT id, clock_timestamp() FROM audited;

-- step: open breaks the run explains closed (matched, superseded, resolved)
CREATE TEMP TABLE bench_closing ON COMMIT DROP AS
SELECT c.id, c.kind, 'matched' AS resolution, i.match_id AS closed_by,
       'Explained by match ' || i.match_id || '.' AS note
FROM bench_carried c
JOIN matched_items i  -- the match holding its first item
  ON i.item_id = coalesce(c.statement_entry_ids ->> 0, c.movement_ids ->> 0)
WHERE c.key NOT IN (SELECT key FROM bench_found)
  AND NOT EXISTS (
      SELECT 1 FROM (SELECT json_array_elements_text(c.statement_entry_ids) AS item, 'line' AS k
                     UNION ALL
                     SELECT json_array_elements_text(c.movement_ids), 'movement') items
      WHERE NOT EXISTS (SELECT 1 FROM matched_items h
                        WHERE h.item_kind = items.k AND h.item_id = items.item));
INSERT INTO bench_closing
SELECT DISTINCT ON (c.id) c.id, c.kind, 'superseded', f.id,
       'Its items are in break ' || f.id || ' now.'
FROM bench_carried c
JOIN bench_found f
  ON f.line_ids && ARRAY(SELECT json_array_elements_text(c.statement_entry_ids))
  OR f.movement_ids && ARRAY(SELECT json_array_elements_text(c.movement_ids))
WHERE c.key NOT IN (SELECT key FROM bench_found) AND c.id NOT IN (SELECT id FROM bench_closing)
ORDER BY c.id, f.key;
INSERT INTO bench_closing
SELECT b.id, b.kind, 'resolved', r.id, 'The balances agree now.'
FROM reconciliation_breaks b CROSS JOIN bench_run r
WHERE b.status = 'open' AND b.account = r.account AND b.value_date = r.day
  AND b.kind = 'balance' AND b.key NOT IN (SELECT key FROM bench_found);
WITH before AS (
    SELECT b.*, x.resolution AS how, x.closed_by AS by, x.note
    FROM reconciliation_breaks b JOIN bench_closing x ON x.id = b.id
    WHERE b.status = 'open'
), changed AS (
    UPDATE reconciliation_breaks b
    SET status = 'closed', resolution = x.how, resolution_note = left(x.note, 1000),
        closed_by = x.by, resolved_at = now(), resolved_by = current_setting('bench.actor'),
        updated_at = now(), version = b.version + 1
    FROM before x WHERE b.id = x.id
    RETURNING b.*
), audited AS (
    INSERT INTO audit_records (occurred_at, actor_key_id, actor_role, actor_name, request_id,
                               entity_type, entity_id, action, before, after, event_type)
    SELECT now(), current_setting('bench.actor'), 'operations', 'bench', NULL,
           'reconciliation_break', c.id, 'closed', to_json(x)::jsonb - 'how' - 'by' - 'note',
           to_json(c), 'reconciliation_break.closed'
    FROM changed c JOIN before x ON x.id = c.id
    RETURNING id
)
INSERT INTO audit_unsealed (record_id, queued_at) SELECT id, clock_timestamp() FROM audited;

-- step: the run completed, with its counts and report
WITH counted AS (
    SELECT (SELECT count(*) FROM bench_lines WHERE NOT held) AS lines,
           (SELECT count(*) FROM bench_movements WHERE NOT held) AS movements,
           (SELECT count(*) FROM bench_lines WHERE held)
               + (SELECT count(*) FROM bench_movements WHERE held) AS held,
           (SELECT count(*) FROM bench_matches) AS matched,
           (SELECT coalesce(sum(cardinality(line_ids)), 0) FROM bench_matches) AS matched_lines,
           (SELECT coalesce(sum(cardinality(movement_ids)), 0) FROM bench_matches)
               AS matched_movements,
           (SELECT coalesce(json_object_agg(rule, n ORDER BY rule), '{}')
            FROM (SELECT rule, count(*) AS n FROM bench_matches GROUP BY rule) m) AS per_rule,
           (SELECT count(*) FROM bench_gave_up) AS gave_up,
           (SELECT coalesce(json_agg(json_build_object('rule', rule, 'item_id', item_id,
                                                       'reason', reason)), '[]')
            FROM (SELECT * FROM bench_gave_up ORDER BY rule, item_id LIMIT 100) g) AS notes,
           (SELECT count(*) FROM bench_found WHERE was IS NULL OR was = 'closed') AS opened,
           (SELECT count(*) FROM bench_closing) AS closed,
           (SELECT json_build_object(
               'opened', (SELECT coalesce(json_object_agg(kind, n ORDER BY kind), '{}') FROM (
                   SELECT kind, count(*) AS n FROM bench_found WHERE was IS NULL
                   GROUP BY kind) k),
               'kept', (SELECT coalesce(json_object_agg(kind, n ORDER BY kind), '{}') FROM (
                   SELECT kind, count(*) AS n FROM bench_found WHERE was <> 'closed'
                   GROUP BY kind) k),
               'reopened', (SELECT coalesce(json_object_agg(kind, n ORDER BY kind), '{}') FROM (
                   SELECT kind, count(*) AS n FROM bench_found WHERE was = 'closed'
                   GROUP BY kind) k),
               'closed', (SELECT coalesce(json_object_agg(kind, n ORDER BY kind), '{}') FROM (
                   SELECT kind, count(*) AS n FROM bench_closing GROUP BY kind) k))) AS breaks
), before AS (
    SELECT * FROM reconciliation_runs WHERE id = (SELECT id FROM bench_run)
), changed AS (
    UPDATE reconciliation_runs r
    SET status = 'completed', total = c.lines + c.movements, processed = c.lines + c.movements,
        matched = c.matched, breaks_opened = c.opened, breaks_closed = c.closed,
        finished_at = now(),
        report = json_build_object(
            'account_kind', 'cash',
            'cash', json_build_object(
                'lines', c.lines, 'movements', c.movements, 'already_matched', c.held,
                'matches', c.per_rule, 'matched_lines', c.matched_lines,
                'matched_movements', c.matched_movements, 'gave_up_count', c.gave_up,
                'gave_up', c.notes),
            'integrity', json_build_object(
                'statements', (SELECT coalesce(json_agg(DISTINCT statement), '[]')
                               FROM bench_found WHERE kind = 'integrity'),
                'breaks', (SELECT count(*) FROM bench_found WHERE kind = 'integrity')),
            'balance', (SELECT json_build_object('statement_id', b.id, 'currency', b.currency,
                                                 'statement', b.statement::text,
                                                 'book', b.book::text,
                                                 'difference', (b.statement - b.book)::text)
                        FROM bench_balance b),
            'breaks', c.breaks,
            'write_offs_decided', 0)
    FROM before b, counted c
    WHERE r.id = b.id
    RETURNING r.*
), audited AS (
    INSERT INTO audit_records (occurred_at, actor_key_id, actor_role, actor_name, request_id,
                               entity_type, entity_id, action, before, after, event_type)
    SELECT now(), current_setting('bench.actor'), 'operations', 'bench', NULL,
           'reconciliation_run', c.id, 'completed', to_json(b), to_json(c),
           'reconciliation_run.completed'
    FROM changed c JOIN before b ON b.id = c.id
    RETURNING id
)
INSERT INTO audit_unsealed (record_id, queued_at) SELECT id, clock_timestamp() FROM audited;
