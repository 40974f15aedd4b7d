-- The runners' queue as a covering index: a pending job never has a runner (only the claim
-- sets runner_id), and the `runner_id IS NULL` term made the candidate search read each
-- candidate's row to check it (bench P2).
DROP INDEX `jobs_queue`;--> statement-breakpoint
CREATE INDEX `jobs_queue` ON `jobs` (`id`,`project_id`,`tag_list`) WHERE status = 'pending' AND kind = 'build';