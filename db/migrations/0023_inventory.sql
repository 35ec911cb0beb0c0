CREATE TABLE "inventory_items" (
	"certificate_id" text PRIMARY KEY NOT NULL,
	"team_id" text NOT NULL,
	"fingerprint_sha256" text NOT NULL,
	"origin" text NOT NULL,
	"subject" text NOT NULL,
	"issuer_name" text NOT NULL,
	"public_key" text NOT NULL,
	"policy_findings" jsonb NOT NULL,
	"first_seen_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL,
	"adopted_by" text,
	"adopted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "inventory_sightings" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"team_id" text NOT NULL,
	"certificate_id" text NOT NULL,
	"endpoint" text NOT NULL,
	"server_name" text NOT NULL,
	"chain_pem" text NOT NULL,
	"scan_id" text NOT NULL,
	"first_seen_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "certificate_versions" DROP CONSTRAINT "certificate_versions_serial_unique";--> statement-breakpoint
ALTER TABLE "certificate_versions" DROP CONSTRAINT "certificate_versions_fingerprint_sha256_unique";--> statement-breakpoint
ALTER TABLE "certificate_versions" ALTER COLUMN "issuer_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "inventory_items" ADD CONSTRAINT "inventory_items_certificate_id_certificates_id_fk" FOREIGN KEY ("certificate_id") REFERENCES "public"."certificates"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inventory_items" ADD CONSTRAINT "inventory_items_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inventory_sightings" ADD CONSTRAINT "inventory_sightings_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inventory_sightings" ADD CONSTRAINT "inventory_sightings_certificate_id_certificates_id_fk" FOREIGN KEY ("certificate_id") REFERENCES "public"."certificates"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "inventory_items_team_fingerprint_uq" ON "inventory_items" USING btree ("team_id","fingerprint_sha256");--> statement-breakpoint
CREATE UNIQUE INDEX "inventory_sightings_uq" ON "inventory_sightings" USING btree ("team_id","certificate_id","endpoint","server_name");--> statement-breakpoint
CREATE UNIQUE INDEX "certificate_versions_serial_uq" ON "certificate_versions" USING btree ("serial") WHERE issuer_id is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "certificate_versions_fingerprint_uq" ON "certificate_versions" USING btree ("fingerprint_sha256") WHERE issuer_id is not null;