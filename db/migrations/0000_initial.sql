CREATE TABLE "api_tokens" (
	"id" text PRIMARY KEY NOT NULL,
	"team_id" text,
	"role" text NOT NULL,
	"token_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_tokens_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "certificate_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"certificate_id" text NOT NULL,
	"generation" integer NOT NULL,
	"key_algorithm" text NOT NULL,
	"sealed_private_key" text NOT NULL,
	"public_key_spki" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "certificate_versions" (
	"id" text PRIMARY KEY NOT NULL,
	"certificate_id" text NOT NULL,
	"generation" integer NOT NULL,
	"issuer_id" text NOT NULL,
	"serial" text NOT NULL,
	"certificate_pem" text NOT NULL,
	"not_before" timestamp with time zone NOT NULL,
	"not_after" timestamp with time zone NOT NULL,
	"fingerprint_sha256" text NOT NULL,
	"status" text NOT NULL,
	"revoked_at" timestamp with time zone,
	"revocation_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "certificate_versions_serial_unique" UNIQUE("serial"),
	CONSTRAINT "certificate_versions_fingerprint_sha256_unique" UNIQUE("fingerprint_sha256")
);
--> statement-breakpoint
CREATE TABLE "certificates" (
	"id" text PRIMARY KEY NOT NULL,
	"team_id" text NOT NULL,
	"common_name" text,
	"dns_names" text[] NOT NULL,
	"ip_addresses" text[] NOT NULL,
	"uris" text[] NOT NULL,
	"profile" text NOT NULL,
	"key_algorithm" text NOT NULL,
	"validity_seconds" integer NOT NULL,
	"renew_before_seconds" integer,
	"csr_pem" text,
	"destinations" jsonb NOT NULL,
	"state" text NOT NULL,
	"current_version_id" text,
	"workflow_id" text NOT NULL,
	"requested_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "deliveries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"version_id" text NOT NULL,
	"destination_index" integer NOT NULL,
	"destination" jsonb NOT NULL,
	"delivered_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "issuers" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"parent_id" text,
	"status" text NOT NULL,
	"common_name" text NOT NULL,
	"key_algorithm" text NOT NULL,
	"certificate_pem" text NOT NULL,
	"sealed_private_key" text NOT NULL,
	"not_before" timestamp with time zone NOT NULL,
	"not_after" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "teams" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"policy" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "teams_name_unique" UNIQUE("name")
);
--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "certificate_keys" ADD CONSTRAINT "certificate_keys_certificate_id_certificates_id_fk" FOREIGN KEY ("certificate_id") REFERENCES "public"."certificates"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "certificate_versions" ADD CONSTRAINT "certificate_versions_certificate_id_certificates_id_fk" FOREIGN KEY ("certificate_id") REFERENCES "public"."certificates"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "certificate_versions" ADD CONSTRAINT "certificate_versions_issuer_id_issuers_id_fk" FOREIGN KEY ("issuer_id") REFERENCES "public"."issuers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "certificates" ADD CONSTRAINT "certificates_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_version_id_certificate_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."certificate_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "api_tokens_team_idx" ON "api_tokens" USING btree ("team_id");--> statement-breakpoint
CREATE UNIQUE INDEX "certificate_keys_generation_uq" ON "certificate_keys" USING btree ("certificate_id","generation");--> statement-breakpoint
CREATE UNIQUE INDEX "certificate_versions_generation_uq" ON "certificate_versions" USING btree ("certificate_id","generation");--> statement-breakpoint
CREATE INDEX "certificate_versions_issuer_status_idx" ON "certificate_versions" USING btree ("issuer_id","status");--> statement-breakpoint
CREATE INDEX "certificate_versions_not_after_idx" ON "certificate_versions" USING btree ("not_after") WHERE status = 'active';--> statement-breakpoint
CREATE INDEX "certificates_team_created_idx" ON "certificates" USING btree ("team_id","created_at","id");--> statement-breakpoint
CREATE INDEX "certificates_created_idx" ON "certificates" USING btree ("created_at","id");--> statement-breakpoint
CREATE UNIQUE INDEX "deliveries_version_destination_uq" ON "deliveries" USING btree ("version_id","destination_index");