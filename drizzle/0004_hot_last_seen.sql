DROP INDEX IF EXISTS "agents_status_last_seen_idx";--> statement-breakpoint
DROP INDEX IF EXISTS "agents_online_freshest_idx";--> statement-breakpoint
-- Room on every page for the heartbeat flush's in-place (HOT) updates of last_seen_at. New pages
-- get it at once; pages written before keep theirs full until their rows move or VACUUM FULL.
ALTER TABLE "agents" SET (fillfactor = 70);
