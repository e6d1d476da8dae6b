CREATE TABLE `drills` (
	`incident_id` text PRIMARY KEY NOT NULL,
	`scenario_id` text NOT NULL,
	`scenario` text NOT NULL,
	`speed` real DEFAULT 1 NOT NULL,
	`auto` integer DEFAULT false NOT NULL,
	`status` text NOT NULL,
	`started_at` text NOT NULL,
	`finished_at` text,
	`result` text
);
