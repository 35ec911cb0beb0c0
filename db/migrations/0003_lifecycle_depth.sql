CREATE TABLE "agent_csrs" (
	"certificate_id" text NOT NULL,
	"generation" integer NOT NULL,
	"agent_id" text NOT NULL,
	"csr_pem" text,
	"requested_at" timestamp with time zone DEFAULT now() NOT NULL,
	"submitted_at" timestamp with time zone,
	CONSTRAINT "agent_csrs_certificate_id_generation_pk" PRIMARY KEY("certificate_id","generation")
);
--> statement-breakpoint
CREATE TABLE "agents" (
	"id" text PRIMARY KEY NOT NULL,
	"team_id" text NOT NULL,
	"name" text NOT NULL,
	"token_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "agents_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "approvals" (
	"id" text PRIMARY KEY NOT NULL,
	"certificate_id" text NOT NULL,
	"generation" integer NOT NULL,
	"team_id" text NOT NULL,
	"state" text NOT NULL,
	"reasons" jsonb NOT NULL,
	"requested_by" text NOT NULL,
	"requested_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deadline_at" timestamp with time zone NOT NULL,
	"escalated_at" timestamp with time zone,
	"decided_by" text,
	"decided_at" timestamp with time zone,
	"decision_reason" text
);
--> statement-breakpoint
CREATE TABLE "audit_events" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"team_id" text,
	"certificate_id" text,
	"details" jsonb NOT NULL,
	"dedupe_key" text,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL,
	CONSTRAINT "audit_events_dedupe_key_unique" UNIQUE("dedupe_key")
);
--> statement-breakpoint
CREATE TABLE "notifications" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"team_id" text NOT NULL,
	"certificate_id" text,
	"kind" text NOT NULL,
	"recipients" text[] NOT NULL,
	"message" text NOT NULL,
	"dedupe_key" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "notifications_dedupe_key_unique" UNIQUE("dedupe_key")
);
--> statement-breakpoint
ALTER TABLE "deliveries" ALTER COLUMN "delivered_at" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "deliveries" ALTER COLUMN "delivered_at" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "certificates" ADD COLUMN "key_source" text DEFAULT 'server' NOT NULL;--> statement-breakpoint
UPDATE "certificates" SET "key_source" = 'csr' WHERE "csr_pem" IS NOT NULL;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "state" text DEFAULT 'delivered' NOT NULL;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "rollout_key" text;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "agent_id" text;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "deployed_serial" text;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "verified_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "last_error" text;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "updated_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "agent_csrs" ADD CONSTRAINT "agent_csrs_certificate_id_certificates_id_fk" FOREIGN KEY ("certificate_id") REFERENCES "public"."certificates"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agents" ADD CONSTRAINT "agents_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "approvals" ADD CONSTRAINT "approvals_certificate_id_certificates_id_fk" FOREIGN KEY ("certificate_id") REFERENCES "public"."certificates"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "approvals" ADD CONSTRAINT "approvals_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "agent_csrs_agent_idx" ON "agent_csrs" USING btree ("agent_id");--> statement-breakpoint
CREATE UNIQUE INDEX "agents_team_name_uq" ON "agents" USING btree ("team_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "approvals_certificate_generation_uq" ON "approvals" USING btree ("certificate_id","generation");--> statement-breakpoint
CREATE INDEX "audit_events_certificate_idx" ON "audit_events" USING btree ("certificate_id","seq");--> statement-breakpoint
CREATE INDEX "notifications_team_idx" ON "notifications" USING btree ("team_id","id");--> statement-breakpoint
CREATE INDEX "deliveries_agent_pending_idx" ON "deliveries" USING btree ("agent_id") WHERE state = 'pending';