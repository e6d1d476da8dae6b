CREATE TABLE `mcp_gateway_changes` (
	`agent_id` text NOT NULL,
	`gateway` text NOT NULL,
	`kind` text NOT NULL,
	`ref` text NOT NULL,
	`tool` text,
	`version` integer NOT NULL,
	`at` text NOT NULL,
	PRIMARY KEY(`agent_id`, `gateway`, `kind`, `ref`)
);
