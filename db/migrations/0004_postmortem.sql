CREATE TABLE `action_items` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`incident_id` text NOT NULL,
	`step_id` text NOT NULL,
	`phase` text NOT NULL,
	`title` text NOT NULL,
	`owner` text NOT NULL,
	`checklist` text NOT NULL,
	`created_at` text NOT NULL,
	FOREIGN KEY (`incident_id`) REFERENCES `incidents`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `action_items_step` ON `action_items` (`incident_id`,`step_id`);--> statement-breakpoint
CREATE TABLE `postmortems` (
	`incident_id` text PRIMARY KEY NOT NULL,
	`revision` integer NOT NULL,
	`generated_at` text NOT NULL,
	`generated_by` text NOT NULL,
	`covers_timeline_id` integer NOT NULL,
	`sha256` text NOT NULL,
	`markdown` text NOT NULL,
	`report` text NOT NULL,
	FOREIGN KEY (`incident_id`) REFERENCES `incidents`(`id`) ON UPDATE no action ON DELETE no action
);
