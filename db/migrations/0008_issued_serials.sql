CREATE TABLE "issued_serials" (
	"issuer_id" text NOT NULL,
	"serial" text NOT NULL,
	"certificate_id" text NOT NULL,
	"generation" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "issued_serials_issuer_id_serial_pk" PRIMARY KEY("issuer_id","serial")
);
--> statement-breakpoint
ALTER TABLE "issued_serials" ADD CONSTRAINT "issued_serials_issuer_id_issuers_id_fk" FOREIGN KEY ("issuer_id") REFERENCES "public"."issuers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "issued_serials" ADD CONSTRAINT "issued_serials_certificate_id_certificates_id_fk" FOREIGN KEY ("certificate_id") REFERENCES "public"."certificates"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "issued_serials_certificate_idx" ON "issued_serials" USING btree ("certificate_id","generation");--> statement-breakpoint
INSERT INTO "issued_serials" ("issuer_id", "serial", "certificate_id", "generation", "created_at")
SELECT "issuer_id", "serial", "certificate_id", "generation", "created_at" FROM "certificate_versions" ON CONFLICT DO NOTHING;
