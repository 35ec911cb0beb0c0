CREATE TABLE "principals" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"name" text NOT NULL,
	"email" text,
	"team_id" text,
	"oidc_issuer" text,
	"oidc_subject" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"disabled_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "api_tokens" ADD COLUMN "principal_id" text;--> statement-breakpoint
ALTER TABLE "certificates" ADD COLUMN "requested_by_principal" text;--> statement-breakpoint
ALTER TABLE "principals" ADD CONSTRAINT "principals_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "principals_team_idx" ON "principals" USING btree ("team_id");--> statement-breakpoint
CREATE UNIQUE INDEX "principals_oidc_subject_uq" ON "principals" USING btree ("oidc_issuer","oidc_subject");--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_principal_id_principals_id_fk" FOREIGN KEY ("principal_id") REFERENCES "public"."principals"("id") ON DELETE no action ON UPDATE no action;