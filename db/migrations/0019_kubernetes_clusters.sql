CREATE TABLE "kubernetes_clusters" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"api_url" text NOT NULL,
	"ca_bundle_pem" text NOT NULL,
	"sealed_token" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "kubernetes_clusters_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "kubernetes_namespace_grants" (
	"cluster_id" text NOT NULL,
	"team_id" text NOT NULL,
	"namespace" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "kubernetes_namespace_grants_cluster_id_team_id_namespace_pk" PRIMARY KEY("cluster_id","team_id","namespace")
);
--> statement-breakpoint
ALTER TABLE "kubernetes_namespace_grants" ADD CONSTRAINT "kubernetes_namespace_grants_cluster_id_kubernetes_clusters_id_fk" FOREIGN KEY ("cluster_id") REFERENCES "public"."kubernetes_clusters"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "kubernetes_namespace_grants" ADD CONSTRAINT "kubernetes_namespace_grants_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE no action ON UPDATE no action;