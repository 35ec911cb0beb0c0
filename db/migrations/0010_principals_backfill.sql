-- Every token older than principals gets a service principal of its own (id prn_ + the token's id
-- suffix, same team), so separation of duties stays exactly what it was (per token) for them.
-- The bootstrap token's principal is prn_bootstrap (platform-wide).
INSERT INTO "principals" ("id", "kind", "name", "team_id", "created_at")
SELECT CASE WHEN t."id" = 'tok_bootstrap' THEN 'prn_bootstrap' ELSE 'prn_' || substr(t."id", 5) END,
       'service',
       CASE WHEN t."id" = 'tok_bootstrap' THEN 'bootstrap admin' ELSE 'token ' || t."id" || ' (before principals)' END,
       t."team_id",
       t."created_at"
FROM "api_tokens" t
WHERE t."principal_id" IS NULL
ON CONFLICT ("id") DO NOTHING;
--> statement-breakpoint
UPDATE "api_tokens" SET "principal_id" = CASE WHEN "id" = 'tok_bootstrap' THEN 'prn_bootstrap' ELSE 'prn_' || substr("id", 5) END
WHERE "principal_id" IS NULL;
--> statement-breakpoint
UPDATE "certificates" c SET "requested_by_principal" = t."principal_id"
FROM "api_tokens" t
WHERE c."requested_by" = t."id" AND c."requested_by_principal" IS NULL;
