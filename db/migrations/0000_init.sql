CREATE TABLE `action_runs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`incident_id` text NOT NULL,
	`step_id` text NOT NULL,
	`action` text NOT NULL,
	`mode` text NOT NULL,
	`status` text NOT NULL,
	`params` text NOT NULL,
	`result` text,
	`started_at` text NOT NULL,
	`finished_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `action_runs_step` ON `action_runs` (`incident_id`,`step_id`);--> statement-breakpoint
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
CREATE TABLE `alerts` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`incident_id` text NOT NULL,
	`source` text NOT NULL,
	`format` text NOT NULL,
	`dedup_key` text NOT NULL,
	`title` text NOT NULL,
	`severity` text NOT NULL,
	`status` text NOT NULL,
	`agent_id` text,
	`labels` text NOT NULL,
	`details` text NOT NULL,
	`occurred_at` text NOT NULL,
	`received_at` text NOT NULL,
	`dispatched_at` text,
	FOREIGN KEY (`incident_id`) REFERENCES `incidents`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `alerts_id_unique` ON `alerts` (`id`);--> statement-breakpoint
CREATE INDEX `alerts_undispatched` ON `alerts` (`dispatched_at`,`seq`);--> statement-breakpoint
CREATE INDEX `alerts_incident` ON `alerts` (`incident_id`,`received_at`);--> statement-breakpoint
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
CREATE TABLE `incidents` (
	`id` text PRIMARY KEY NOT NULL,
	`key` text NOT NULL,
	`seq` integer NOT NULL,
	`workflow_id` text NOT NULL,
	`source` text NOT NULL,
	`title` text NOT NULL,
	`severity` text NOT NULL,
	`status` text NOT NULL,
	`mode` text NOT NULL,
	`phase` text NOT NULL,
	`agent_id` text,
	`playbook_id` text,
	`group_key` text,
	`resolved_at` text,
	`alert_count` integer DEFAULT 0 NOT NULL,
	`latest_alert_id` text,
	`first_alert_at` text NOT NULL,
	`last_alert_at` text NOT NULL,
	`opened_at` text NOT NULL,
	`started_at` text,
	`updated_at` text NOT NULL,
	`closed_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `incidents_open_key` ON `incidents` (`key`) WHERE status != 'closed';--> statement-breakpoint
CREATE UNIQUE INDEX `incidents_key_seq` ON `incidents` (`key`,`seq`);--> statement-breakpoint
CREATE INDEX `incidents_status` ON `incidents` (`status`,`severity`);--> statement-breakpoint
CREATE INDEX `incidents_group` ON `incidents` (`group_key`,`last_alert_at`);--> statement-breakpoint
CREATE INDEX `incidents_opened` ON `incidents` (`opened_at`,`id`);--> statement-breakpoint
CREATE TABLE `timeline` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`incident_id` text NOT NULL,
	`at` text NOT NULL,
	`kind` text NOT NULL,
	`actor` text NOT NULL,
	`message` text NOT NULL,
	`data` text,
	`event_key` text,
	FOREIGN KEY (`incident_id`) REFERENCES `incidents`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `timeline_incident` ON `timeline` (`incident_id`,`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `timeline_event_key` ON `timeline` (`event_key`);