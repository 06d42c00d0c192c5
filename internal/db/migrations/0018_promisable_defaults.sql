-- 容缺受理 is acceptance first, not registration without the documents
-- (docs/DECISIONS.md, "Promises"). The shipped promised_document rule let the
-- loan contract and the authorisation be promised; the rule now chooses only
-- within MORTGAGED_PROMISABLE (default business_licence, identity_document),
-- so the stored list drops the kinds outside that default. An installation
-- with a wider local list adds them back in the console's rules page.
UPDATE routing_rules
SET params = jsonb_set(params, '{allowed}', (
        SELECT coalesce(jsonb_agg(k ORDER BY n), '[]'::jsonb)
        FROM jsonb_array_elements_text(params -> 'allowed') WITH ORDINALITY AS a (k, n)
        WHERE k NOT IN ('loan_contract', 'mortgage_contract', 'maximum_mortgage_contract', 'authorisation'))),
    updated_by = 'system', updated_at = now()
WHERE kind = 'promised_document' AND params ? 'allowed';
