-- A claim wrote a random leaf of jobs_token_hash (every token ever handed out, bench P2). Job
-- tokens work only while their job runs, so they are found among the running jobs' entries.
DROP INDEX `jobs_token_hash`;--> statement-breakpoint
DROP INDEX `jobs_running`;--> statement-breakpoint
CREATE INDEX `jobs_running` ON `jobs` (`id`,`token_hash`) WHERE status = 'running';