CREATE TABLE "bulk_items" (
	"bulk_id" text NOT NULL,
	"certificate_id" text NOT NULL,
	"old_version_id" text,
	"new_version_id" text,
	"outcome" text,
	"reason" text,
	"revoked_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "bulk_items_bulk_id_certificate_id_pk" PRIMARY KEY("bulk_id","certificate_id")
);
--> statement-breakpoint
CREATE TABLE "bulk_operations" (
	"id" text PRIMARY KEY NOT NULL,
	"selector" jsonb NOT NULL,
	"options" jsonb NOT NULL,
	"state" text NOT NULL,
	"counts" jsonb NOT NULL,
	"workflow_id" text NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "bulk_items" ADD CONSTRAINT "bulk_items_bulk_id_bulk_operations_id_fk" FOREIGN KEY ("bulk_id") REFERENCES "public"."bulk_operations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bulk_items" ADD CONSTRAINT "bulk_items_certificate_id_certificates_id_fk" FOREIGN KEY ("certificate_id") REFERENCES "public"."certificates"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "bulk_items_outcome_idx" ON "bulk_items" USING btree ("bulk_id","outcome");