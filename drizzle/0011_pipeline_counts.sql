CREATE TABLE `pipeline_counts` (
	`project_id` integer PRIMARY KEY NOT NULL,
	`n` integer NOT NULL
);
