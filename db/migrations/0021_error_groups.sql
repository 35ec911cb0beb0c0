CREATE TABLE "error_group_certificates" (
	"group_id" text NOT NULL,
	"certificate_id" text NOT NULL,
	"first_seen" timestamp with time zone NOT NULL,
	"last_seen" timestamp with time zone NOT NULL,
	"count" bigint NOT NULL,
	CONSTRAINT "error_group_certificates_group_id_certificate_id_pk" PRIMARY KEY("group_id","certificate_id")
);
--> statement-breakpoint
CREATE TABLE "error_groups" (
	"id" text PRIMARY KEY NOT NULL,
	"team_id" text,
	"type" text NOT NULL,
	"reason" text NOT NULL,
	"last_message" text NOT NULL,
	"last_activity" text NOT NULL,
	"first_seen" timestamp with time zone NOT NULL,
	"last_seen" timestamp with time zone NOT NULL,
	"count" bigint NOT NULL,
	CONSTRAINT "error_groups_key" UNIQUE NULLS NOT DISTINCT("team_id","type","reason")
);
--> statement-breakpoint
ALTER TABLE "error_group_certificates" ADD CONSTRAINT "error_group_certificates_group_id_error_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."error_groups"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "error_groups" ADD CONSTRAINT "error_groups_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "error_group_certificates_recent_idx" ON "error_group_certificates" USING btree ("group_id","last_seen");--> statement-breakpoint
CREATE INDEX "error_groups_last_seen_idx" ON "error_groups" USING btree ("last_seen");