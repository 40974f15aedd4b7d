CREATE TABLE `job_counts` (
	`status` text PRIMARY KEY NOT NULL,
	`n` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `jobs_pending_queued` ON `jobs` (`status`,`queued_at`) WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX `jobs_artifacts_expiry` ON `jobs` (`artifacts_expire_at`) WHERE artifacts_expire_at IS NOT NULL;