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