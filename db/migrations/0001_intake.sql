ALTER TABLE `incidents` ADD `group_key` text;--> statement-breakpoint
ALTER TABLE `incidents` ADD `resolved_at` text;--> statement-breakpoint
CREATE INDEX `incidents_group` ON `incidents` (`group_key`,`last_alert_at`);--> statement-breakpoint
CREATE INDEX `incidents_opened` ON `incidents` (`opened_at`,`id`);