CREATE TABLE "kubernetes_requests" (
	"uid" text PRIMARY KEY NOT NULL,
	"certificate_id" text NOT NULL,
	"generation" integer NOT NULL,
	"certificate_request" text NOT NULL,
	"revision" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "kubernetes_requests" ADD CONSTRAINT "kubernetes_requests_certificate_id_certificates_id_fk" FOREIGN KEY ("certificate_id") REFERENCES "public"."certificates"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "kubernetes_requests_generation_uq" ON "kubernetes_requests" USING btree ("certificate_id","generation");