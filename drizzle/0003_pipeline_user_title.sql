ALTER TABLE `pipelines` ADD `user_id` integer REFERENCES users(id) ON DELETE SET NULL;--> statement-breakpoint
ALTER TABLE `pipelines` ADD `commit_title` text;
