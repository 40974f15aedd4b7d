CREATE TABLE `deployments` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`iid` integer NOT NULL,
	`project_id` integer NOT NULL,
	`environment_id` integer NOT NULL,
	`job_id` integer,
	`ref` text NOT NULL,
	`tag` integer NOT NULL,
	`sha` text NOT NULL,
	`status` text NOT NULL,
	`user_id` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`finished_at` integer,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`environment_id`) REFERENCES `environments`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`job_id`) REFERENCES `jobs`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `deployments_iid` ON `deployments` (`project_id`,`iid`);--> statement-breakpoint
CREATE INDEX `deployments_environment` ON `deployments` (`environment_id`,`id`);--> statement-breakpoint
CREATE INDEX `deployments_job` ON `deployments` (`job_id`);--> statement-breakpoint
CREATE TABLE `environments` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project_id` integer NOT NULL,
	`name` text NOT NULL,
	`slug` text NOT NULL,
	`external_url` text,
	`state` text DEFAULT 'available' NOT NULL,
	`tier` text NOT NULL,
	`auto_stop_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `environments_name` ON `environments` (`project_id`,`name`);--> statement-breakpoint
CREATE TABLE `job_artifacts` (
	`job_id` integer NOT NULL,
	`file_type` text NOT NULL,
	`file_format` text NOT NULL,
	`filename` text NOT NULL,
	`size` integer NOT NULL,
	`expire_at` integer,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`job_id`, `file_type`),
	FOREIGN KEY (`job_id`) REFERENCES `jobs`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `job_artifacts_expire` ON `job_artifacts` (`expire_at`);--> statement-breakpoint
CREATE TABLE `job_needs` (
	`pipeline_id` integer NOT NULL,
	`job_name` text NOT NULL,
	`need_name` text NOT NULL,
	`artifacts` integer DEFAULT true NOT NULL,
	`optional` integer DEFAULT false NOT NULL,
	PRIMARY KEY(`pipeline_id`, `job_name`, `need_name`),
	FOREIGN KEY (`pipeline_id`) REFERENCES `pipelines`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `job_needs_need` ON `job_needs` (`pipeline_id`,`need_name`);--> statement-breakpoint
CREATE TABLE `job_variables` (
	`job_id` integer NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	`source` text DEFAULT 'dotenv' NOT NULL,
	PRIMARY KEY(`job_id`, `key`),
	FOREIGN KEY (`job_id`) REFERENCES `jobs`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `resource_groups` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project_id` integer NOT NULL,
	`key` text NOT NULL,
	`process_mode` text DEFAULT 'unordered' NOT NULL,
	`holder_job_id` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `resource_groups_key` ON `resource_groups` (`project_id`,`key`);--> statement-breakpoint
CREATE TABLE `test_reports` (
	`job_id` integer PRIMARY KEY NOT NULL,
	`pipeline_id` integer NOT NULL,
	`suite_name` text NOT NULL,
	`total_time` real DEFAULT 0 NOT NULL,
	`total` integer DEFAULT 0 NOT NULL,
	`success` integer DEFAULT 0 NOT NULL,
	`failed` integer DEFAULT 0 NOT NULL,
	`skipped` integer DEFAULT 0 NOT NULL,
	`error` integer DEFAULT 0 NOT NULL,
	`suite_error` text,
	FOREIGN KEY (`job_id`) REFERENCES `jobs`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`pipeline_id`) REFERENCES `pipelines`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `test_reports_pipeline` ON `test_reports` (`pipeline_id`);--> statement-breakpoint
ALTER TABLE `jobs` ADD `kind` text DEFAULT 'build' NOT NULL;--> statement-breakpoint
ALTER TABLE `jobs` ADD `dag` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `jobs` ADD `scheduled_at` integer;--> statement-breakpoint
ALTER TABLE `jobs` ADD `coverage` real;--> statement-breakpoint
ALTER TABLE `jobs` ADD `interruptible` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `jobs` ADD `resource_group_id` integer;--> statement-breakpoint
CREATE INDEX `jobs_pipeline_status` ON `jobs` (`pipeline_id`,`status`);--> statement-breakpoint
CREATE INDEX `jobs_scheduled` ON `jobs` (`status`,`scheduled_at`);--> statement-breakpoint
CREATE INDEX `jobs_resource_group` ON `jobs` (`resource_group_id`,`status`);--> statement-breakpoint
ALTER TABLE `pipelines` ADD `yaml_raw_variables` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `pipelines` ADD `name` text;--> statement-breakpoint
ALTER TABLE `pipelines` ADD `commit_message` text;--> statement-breakpoint
ALTER TABLE `pipelines` ADD `commit_author_name` text;--> statement-breakpoint
ALTER TABLE `pipelines` ADD `commit_author_email` text;--> statement-breakpoint
ALTER TABLE `pipelines` ADD `commit_timestamp` text;--> statement-breakpoint
ALTER TABLE `pipelines` ADD `auto_cancel_on_new_commit` text DEFAULT 'conservative' NOT NULL;--> statement-breakpoint
ALTER TABLE `pipelines` ADD `auto_cancel_on_job_failure` text DEFAULT 'none' NOT NULL;--> statement-breakpoint
ALTER TABLE `pipelines` ADD `auto_canceled_by_id` integer;--> statement-breakpoint
ALTER TABLE `pipelines` ADD `upstream_job_id` integer;--> statement-breakpoint
ALTER TABLE `pipelines` ADD `upstream_pipeline_id` integer;--> statement-breakpoint
CREATE INDEX `pipelines_project_ref` ON `pipelines` (`project_id`,`ref`,`id`);--> statement-breakpoint
CREATE INDEX `pipelines_upstream_job` ON `pipelines` (`upstream_job_id`);