ALTER TABLE "issuers" ALTER COLUMN "sealed_private_key" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "issuers" ADD COLUMN "key_backend" text DEFAULT 'software' NOT NULL;--> statement-breakpoint
ALTER TABLE "issuers" ADD COLUMN "key_ref" text;--> statement-breakpoint
ALTER TABLE "issuers" ADD CONSTRAINT "issuers_key_location_ck" CHECK (("issuers"."key_backend" = 'software' and "issuers"."sealed_private_key" is not null and "issuers"."key_ref" is null) or ("issuers"."key_backend" = 'pkcs11' and "issuers"."sealed_private_key" is null and "issuers"."key_ref" is not null));