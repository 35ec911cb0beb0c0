CREATE TABLE "issuer_crls" (
	"issuer_id" text PRIMARY KEY NOT NULL,
	"crl_number" bigint NOT NULL,
	"this_update" timestamp with time zone NOT NULL,
	"next_update" timestamp with time zone NOT NULL,
	"entry_count" integer NOT NULL,
	"crl_der" "bytea" NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ocsp_responses" (
	"issuer_id" text NOT NULL,
	"serial" text NOT NULL,
	"hash_algorithm" text NOT NULL,
	"cert_status" text NOT NULL,
	"this_update" timestamp with time zone NOT NULL,
	"next_update" timestamp with time zone NOT NULL,
	"response_der" "bytea" NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ocsp_responses_issuer_id_serial_hash_algorithm_pk" PRIMARY KEY("issuer_id","serial","hash_algorithm")
);
--> statement-breakpoint
ALTER TABLE "issuers" ADD COLUMN "revoked_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "issuers" ADD COLUMN "revocation_reason" text;--> statement-breakpoint
ALTER TABLE "issuer_crls" ADD CONSTRAINT "issuer_crls_issuer_id_issuers_id_fk" FOREIGN KEY ("issuer_id") REFERENCES "public"."issuers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ocsp_responses" ADD CONSTRAINT "ocsp_responses_issuer_id_issuers_id_fk" FOREIGN KEY ("issuer_id") REFERENCES "public"."issuers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "ocsp_responses_refresh_idx" ON "ocsp_responses" USING btree ("issuer_id","next_update");