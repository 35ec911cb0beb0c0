ALTER TABLE "certificates" ADD COLUMN "revoked_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "certificates" ADD COLUMN "revocation_reason" text;--> statement-breakpoint
UPDATE "certificates" c SET "revoked_at" = v."revoked_at", "revocation_reason" = v."revocation_reason"
FROM (SELECT DISTINCT ON ("certificate_id") "certificate_id", "revoked_at", "revocation_reason" FROM "certificate_versions" WHERE "status" = 'revoked' ORDER BY "certificate_id", "generation" DESC) v
WHERE c."id" = v."certificate_id" AND c."state" = 'revoked';
