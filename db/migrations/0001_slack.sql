CREATE TABLE `incident_roles` (
	`incident_id` text NOT NULL,
	`role` text NOT NULL,
	`user_id` text NOT NULL,
	`assigned_by` text NOT NULL,
	`assigned_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `incident_roles_role` ON `incident_roles` (`incident_id`,`role`);--> statement-breakpoint
CREATE TABLE `slack_messages` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`incident_id` text NOT NULL,
	`ref` text NOT NULL,
	`channel` text NOT NULL,
	`ts` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `slack_messages_ref` ON `slack_messages` (`incident_id`,`ref`);--> statement-breakpoint
CREATE INDEX `slack_messages_channel` ON `slack_messages` (`channel`,`ref`);