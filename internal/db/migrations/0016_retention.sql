-- Retention (sync/retention, docs/retention.md): the job finds what has
-- outlived its period by these times without reading the whole tables.
CREATE INDEX batches_finished_at ON batches (finished_at) WHERE status = 'finished';
CREATE INDEX events_delivered_at ON events (delivered_at) WHERE status = 'delivered';
CREATE INDEX deliveries_started_at ON deliveries (started_at);
