CREATE TABLE `agent_credentials` (
	`id` text PRIMARY KEY NOT NULL,
	`agent_id` text NOT NULL,
	`provider` text NOT NULL,
	`reference` text NOT NULL,
	`scopes` text NOT NULL,
	`status` text NOT NULL,
	`created_at` text NOT NULL,
	`last_used_at` text,
	FOREIGN KEY (`agent_id`) REFERENCES `agents`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `agent_credentials_agent` ON `agent_credentials` (`agent_id`);--> statement-breakpoint
CREATE TABLE `agents` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`owner` text NOT NULL,
	`team` text,
	`environment` text NOT NULL,
	`runtime_ref` text,
	`status` text NOT NULL,
	`status_version` integer DEFAULT 1 NOT NULL,
	`status_changed_at` text NOT NULL,
	`tools` text NOT NULL,
	`permissions` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `audit_log` (
	`seq` integer PRIMARY KEY NOT NULL,
	`at` text NOT NULL,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`target` text NOT NULL,
	`incident_id` text,
	`step_id` text,
	`inputs` text NOT NULL,
	`outcome` text NOT NULL,
	`detail` text NOT NULL,
	`duration_ms` integer NOT NULL,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `evidence` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`incident_id` text NOT NULL,
	`sha256` text NOT NULL,
	`size` integer NOT NULL,
	`kind` text NOT NULL,
	`media_type` text NOT NULL,
	`source` text NOT NULL,
	`collected_by` text NOT NULL,
	`collected_at` text NOT NULL,
	`agent_id` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `evidence_incident_sha` ON `evidence` (`incident_id`,`sha256`);--> statement-breakpoint
CREATE TRIGGER `audit_log_no_update` BEFORE UPDATE ON `audit_log` BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;--> statement-breakpoint
CREATE TRIGGER `audit_log_no_delete` BEFORE DELETE ON `audit_log` BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
