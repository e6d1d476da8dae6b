ALTER TABLE `agents` ADD `status_incident` text;--> statement-breakpoint
ALTER TABLE `agents` ADD `blocked_tools` text DEFAULT '[]' NOT NULL;