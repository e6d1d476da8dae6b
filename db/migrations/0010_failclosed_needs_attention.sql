ALTER TABLE `incidents` ADD `needs_attention_at` text;--> statement-breakpoint
ALTER TABLE `incidents` ADD `needs_attention_reason` text;--> statement-breakpoint
ALTER TABLE `incidents` ADD `needs_attention_step` text;