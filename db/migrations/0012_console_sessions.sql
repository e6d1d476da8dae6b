CREATE TABLE `console_sessions` (
	`id_sha256` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`data` text NOT NULL,
	`created_at` text NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `console_sessions_expiry` ON `console_sessions` (`expires_at`);--> statement-breakpoint
CREATE TABLE `issued_tokens` (
	`sha256` text PRIMARY KEY NOT NULL,
	`user` text NOT NULL,
	`created_at` text NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `issued_tokens_expiry` ON `issued_tokens` (`expires_at`);