CREATE TABLE "sweeper_lease" (
	"name" text PRIMARY KEY NOT NULL,
	"holder" text NOT NULL,
	"token" bigint NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sweeper_state" (
	"name" text PRIMARY KEY NOT NULL,
	"redis_epoch" text NOT NULL,
	"redis_run_id" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
