CREATE TABLE "opa_decision_events" (
	"decision_id" text PRIMARY KEY NOT NULL,
	"sender" text NOT NULL,
	"opa_id" text NOT NULL,
	"agent_id" text NOT NULL,
	"tool" text NOT NULL,
	"call_id" text,
	"outcome" text NOT NULL,
	"at" text NOT NULL,
	"received_at" text NOT NULL,
	"event" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "opa_decision_senders" (
	"sender" text NOT NULL,
	"opa_id" text NOT NULL,
	"newest_at" text NOT NULL,
	"last_upload_at" text NOT NULL,
	CONSTRAINT "opa_decision_senders_sender_opa_id_pk" PRIMARY KEY("sender","opa_id")
);
--> statement-breakpoint
CREATE INDEX "opa_decision_events_agent_at" ON "opa_decision_events" USING btree ("agent_id","at");