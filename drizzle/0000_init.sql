CREATE TABLE `jobs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`pipeline_id` integer NOT NULL,
	`project_id` integer NOT NULL,
	`name` text NOT NULL,
	`stage` text NOT NULL,
	`stage_idx` integer NOT NULL,
	`status` text NOT NULL,
	`when` text DEFAULT 'on_success' NOT NULL,
	`allow_failure` integer DEFAULT false NOT NULL,
	`tag_list` text DEFAULT '[]' NOT NULL,
	`spec` text NOT NULL,
	`retries_left` integer DEFAULT 0 NOT NULL,
	`retried` integer DEFAULT false NOT NULL,
	`retry_of` integer,
	`runner_id` integer,
	`token_hash` text,
	`timeout` integer,
	`failure_reason` text,
	`exit_code` integer,
	`created_at` integer NOT NULL,
	`queued_at` integer,
	`started_at` integer,
	`finished_at` integer,
	`updated_at` integer NOT NULL,
	`artifacts_file` text,
	`artifacts_size` integer,
	`artifacts_expire_at` integer,
	FOREIGN KEY (`pipeline_id`) REFERENCES `pipelines`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`runner_id`) REFERENCES `runners`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `jobs_pending` ON `jobs` (`status`,`id`);--> statement-breakpoint
CREATE INDEX `jobs_pipeline` ON `jobs` (`pipeline_id`,`stage_idx`);--> statement-breakpoint
CREATE INDEX `jobs_project` ON `jobs` (`project_id`,`id`);--> statement-breakpoint
CREATE INDEX `jobs_runner` ON `jobs` (`runner_id`,`status`);--> statement-breakpoint
CREATE UNIQUE INDEX `jobs_token_hash` ON `jobs` (`token_hash`);--> statement-breakpoint
CREATE TABLE `pipelines` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project_id` integer NOT NULL,
	`ref` text NOT NULL,
	`tag` integer DEFAULT false NOT NULL,
	`sha` text NOT NULL,
	`before_sha` text NOT NULL,
	`source` text DEFAULT 'api' NOT NULL,
	`status` text NOT NULL,
	`yaml_variables` text DEFAULT '{}' NOT NULL,
	`trigger_variables` text DEFAULT '[]' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`started_at` integer,
	`finished_at` integer,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `pipelines_project` ON `pipelines` (`project_id`,`id`);--> statement-breakpoint
CREATE TABLE `projects` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`path` text NOT NULL,
	`repo_url` text NOT NULL,
	`default_branch` text DEFAULT 'main' NOT NULL,
	`runners_token` text NOT NULL,
	`build_timeout` integer DEFAULT 3600 NOT NULL,
	`shared_runners_enabled` integer DEFAULT true NOT NULL,
	`allow_git_fetch` integer DEFAULT true NOT NULL,
	`clone_with_job_token` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `projects_runners_token` ON `projects` (`runners_token`);--> statement-breakpoint
CREATE UNIQUE INDEX `projects_path` ON `projects` (`path`);--> statement-breakpoint
CREATE TABLE `runner_projects` (
	`runner_id` integer NOT NULL,
	`project_id` integer NOT NULL,
	PRIMARY KEY(`runner_id`, `project_id`),
	FOREIGN KEY (`runner_id`) REFERENCES `runners`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `runner_projects_project` ON `runner_projects` (`project_id`);--> statement-breakpoint
CREATE TABLE `runners` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`token_hash` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`tag_list` text DEFAULT '[]' NOT NULL,
	`run_untagged` integer DEFAULT true NOT NULL,
	`locked` integer DEFAULT false NOT NULL,
	`active` integer DEFAULT true NOT NULL,
	`is_shared` integer NOT NULL,
	`maximum_timeout` integer,
	`protocol` text NOT NULL,
	`contacted_at` integer,
	`name` text,
	`version` text,
	`revision` text,
	`platform` text,
	`architecture` text,
	`executor` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `runners_token_hash` ON `runners` (`token_hash`);--> statement-breakpoint
CREATE TABLE `settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `variables` (
	`project_id` integer NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	`masked` integer DEFAULT false NOT NULL,
	PRIMARY KEY(`project_id`, `key`),
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
