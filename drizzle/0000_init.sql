CREATE TABLE "agent_connection_history" (
	"connection_id" text PRIMARY KEY NOT NULL,
	"agent_id" text NOT NULL,
	"connection_epoch" bigint NOT NULL,
	"gateway_id" text NOT NULL,
	"transport" text,
	"remote_address" text,
	"connected_at" timestamp with time zone,
	"disconnected_at" timestamp with time zone,
	"duration_seconds" double precision,
	"disconnect_reason" text,
	CONSTRAINT "agent_connection_history_transport_check" CHECK ("agent_connection_history"."transport" in ('ws', 'http'))
);
--> statement-breakpoint
CREATE TABLE "agent_status_transitions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"event_id" text NOT NULL,
	"agent_id" text NOT NULL,
	"from_status" text,
	"to_status" text NOT NULL,
	"reason" text,
	"at" timestamp with time zone NOT NULL,
	"decided_by" text NOT NULL,
	"connection_id" text,
	CONSTRAINT "agent_status_transitions_event_id_key" UNIQUE("event_id"),
	CONSTRAINT "agent_status_transitions_from_check" CHECK ("agent_status_transitions"."from_status" in ('online', 'offline', 'error')),
	CONSTRAINT "agent_status_transitions_to_check" CHECK ("agent_status_transitions"."to_status" in ('online', 'offline', 'error')),
	CONSTRAINT "agent_status_transitions_decided_by_check" CHECK ("agent_status_transitions"."decided_by" in ('gateway', 'sweeper', 'api', 'worker'))
);
--> statement-breakpoint
CREATE TABLE "agents" (
	"id" text PRIMARY KEY NOT NULL,
	"status" text NOT NULL,
	"status_reason" text,
	"status_changed_at" timestamp with time zone,
	"last_seen_at" timestamp with time zone,
	"last_connected_at" timestamp with time zone,
	"last_disconnected_at" timestamp with time zone,
	"disconnect_reason" text,
	"current_connection_id" text,
	"connection_epoch" bigint DEFAULT 0 NOT NULL,
	"transport" text,
	"description" jsonb,
	"capabilities" bigint,
	"health" jsonb,
	"effective_config_hash" text,
	"last_sequence_num" bigint,
	"state_epoch" bigint,
	"state_seq" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "agents_status_check" CHECK ("agents"."status" in ('online', 'offline', 'error')),
	CONSTRAINT "agents_transport_check" CHECK ("agents"."transport" in ('ws', 'http'))
);
--> statement-breakpoint
ALTER TABLE "agent_connection_history" ADD CONSTRAINT "agent_connection_history_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agent_status_transitions" ADD CONSTRAINT "agent_status_transitions_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "agent_connection_history_agent_connected_idx" ON "agent_connection_history" USING btree ("agent_id","connected_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "agent_connection_history_connected_idx" ON "agent_connection_history" USING btree ("connected_at");--> statement-breakpoint
CREATE INDEX "agent_status_transitions_agent_at_idx" ON "agent_status_transitions" USING btree ("agent_id","at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "agent_status_transitions_at_idx" ON "agent_status_transitions" USING btree ("at");--> statement-breakpoint
CREATE INDEX "agents_status_last_seen_idx" ON "agents" USING btree ("status","last_seen_at","id");--> statement-breakpoint
CREATE INDEX "agents_status_changed_idx" ON "agents" USING btree ("status","status_changed_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "agents_last_seen_idx" ON "agents" USING btree ("last_seen_at");--> statement-breakpoint
CREATE INDEX "agents_description_gin_idx" ON "agents" USING gin ("description" jsonb_path_ops);