CREATE TABLE `seen_signatures` (
	`source_id` text NOT NULL,
	`digest` text NOT NULL,
	`signed_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`first_seen_at` text NOT NULL,
	PRIMARY KEY(`source_id`, `digest`)
);
--> statement-breakpoint
CREATE INDEX `seen_signatures_expiry` ON `seen_signatures` (`expires_at`);