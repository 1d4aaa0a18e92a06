-- A delivery an earlier attempt of which may have reached Slack without its answer being
-- recorded: a claim that ran out (the process died mid-call), a call stopped by a drain, a
-- timeout, a lost connection or a 5xx once the request was out. Before posting such a delivery
-- again, the outbox looks for it in Slack (its message metadata names the delivery). Rows of
-- earlier releases start at 0; one still claimed then is caught by its left-over claim.
ALTER TABLE outbox ADD COLUMN maybe_posted INTEGER NOT NULL DEFAULT 0;
