CREATE TABLE "console_sessions" (
	"id_sha256" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"data" text NOT NULL,
	"created_at" text NOT NULL,
	"expires_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "issued_tokens" (
	"sha256" text PRIMARY KEY NOT NULL,
	"user" text NOT NULL,
	"created_at" text NOT NULL,
	"expires_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "mcp_gateway_changes" (
	"agent_id" text NOT NULL,
	"gateway" text NOT NULL,
	"kind" text NOT NULL,
	"ref" text NOT NULL,
	"tool" text,
	"version" integer NOT NULL,
	"at" text NOT NULL,
	CONSTRAINT "mcp_gateway_changes_agent_id_gateway_kind_ref_pk" PRIMARY KEY("agent_id","gateway","kind","ref")
);
--> statement-breakpoint
CREATE INDEX "console_sessions_expiry" ON "console_sessions" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "issued_tokens_expiry" ON "issued_tokens" USING btree ("expires_at");