CREATE TABLE `playbook_steps` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`incident_id` text NOT NULL,
	`step_id` text NOT NULL,
	`phase` text NOT NULL,
	`kind` text NOT NULL,
	`status` text NOT NULL,
	`data` text,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`incident_id`) REFERENCES `incidents`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `playbook_steps_step` ON `playbook_steps` (`incident_id`,`step_id`);--> statement-breakpoint
ALTER TABLE `incidents` ADD `playbook_version` integer;--> statement-breakpoint
ALTER TABLE `incidents` ADD `playbook_hash` text;