ALTER TABLE `audit_log` ADD `signature` text;--> statement-breakpoint
ALTER TABLE `audit_log` ADD `kid` text;