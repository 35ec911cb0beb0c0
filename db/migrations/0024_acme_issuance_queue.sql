CREATE TABLE "acme_issuance_queue" (
	"certificate_id" text PRIMARY KEY NOT NULL,
	"generation" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"claimed_until" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text
);
--> statement-breakpoint
ALTER TABLE "acme_issuance_queue" ADD CONSTRAINT "acme_issuance_queue_certificate_id_certificates_id_fk" FOREIGN KEY ("certificate_id") REFERENCES "public"."certificates"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "acme_issuance_queue_claim_idx" ON "acme_issuance_queue" USING btree ("claimed_until","created_at");