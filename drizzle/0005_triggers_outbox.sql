CREATE TABLE `outbox` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project_id` integer NOT NULL,
	`kind` text NOT NULL,
	`event` text NOT NULL,
	`hook_id` integer,
	`pipeline_id` integer,
	`coalesce_key` text,
	`dedupe_key` text,
	`payload` text NOT NULL,
	`version` integer DEFAULT 1 NOT NULL,
	`state` text NOT NULL,
	`reason` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`response_status` integer,
	`next_attempt_at` integer NOT NULL,
	`lease_until` integer,
	`created_at` integer NOT NULL,
	`enqueued_at` integer NOT NULL,
	`finished_at` integer,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`hook_id`) REFERENCES `project_hooks`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`pipeline_id`) REFERENCES `pipelines`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `outbox_due` ON `outbox` (`state`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `outbox_project` ON `outbox` (`project_id`,`id`);--> statement-breakpoint
CREATE INDEX `outbox_coalesce` ON `outbox` (`coalesce_key`,`state`);--> statement-breakpoint
CREATE UNIQUE INDEX `outbox_dedupe` ON `outbox` (`project_id`,`dedupe_key`);--> statement-breakpoint
CREATE TABLE `pipeline_schedules` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project_id` integer NOT NULL,
	`description` text NOT NULL,
	`ref` text NOT NULL,
	`cron` text NOT NULL,
	`cron_timezone` text DEFAULT 'UTC' NOT NULL,
	`active` integer DEFAULT true NOT NULL,
	`next_run_at` integer NOT NULL,
	`last_pipeline_id` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`last_pipeline_id`) REFERENCES `pipelines`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `pipeline_schedules_due` ON `pipeline_schedules` (`active`,`next_run_at`);--> statement-breakpoint
CREATE INDEX `pipeline_schedules_project` ON `pipeline_schedules` (`project_id`);--> statement-breakpoint
CREATE TABLE `pipeline_triggers` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project_id` integer NOT NULL,
	`token_hash` text NOT NULL,
	`token_start` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`last_used` integer,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `pipeline_triggers_token_hash` ON `pipeline_triggers` (`token_hash`);--> statement-breakpoint
CREATE INDEX `pipeline_triggers_project` ON `pipeline_triggers` (`project_id`);--> statement-breakpoint
CREATE TABLE `project_hooks` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project_id` integer NOT NULL,
	`url` text NOT NULL,
	`token_enc` text,
	`push_events` integer DEFAULT true NOT NULL,
	`tag_push_events` integer DEFAULT false NOT NULL,
	`pipeline_events` integer DEFAULT false NOT NULL,
	`job_events` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `project_hooks_project` ON `project_hooks` (`project_id`);--> statement-breakpoint
CREATE TABLE `schedule_variables` (
	`schedule_id` integer NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	`variable_type` text DEFAULT 'env_var' NOT NULL,
	PRIMARY KEY(`schedule_id`, `key`),
	FOREIGN KEY (`schedule_id`) REFERENCES `pipeline_schedules`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE `projects` ADD `webhook_secret` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `projects` ADD `forge_kind` text;--> statement-breakpoint
ALTER TABLE `projects` ADD `forge_api_url` text;--> statement-breakpoint
ALTER TABLE `projects` ADD `forge_repo` text;--> statement-breakpoint
ALTER TABLE `projects` ADD `forge_token_enc` text;--> statement-breakpoint
-- Projects created before webhooks existed get a secret of their own (160 random bits, hex).
UPDATE `projects` SET `webhook_secret` = lower(hex(randomblob(20))) WHERE `webhook_secret` = '';
