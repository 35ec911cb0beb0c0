CREATE TABLE "blocked_keys" (
	"spki_sha256" text PRIMARY KEY NOT NULL,
	"reason" text NOT NULL,
	"source_version_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
