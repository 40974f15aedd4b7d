-- The claim (pending → running) commits every index leaf it changes (bench P2): partial indexes
-- leave out the rows nobody asks them about. jobs_queue is the runners' queue (queue.ts reads it
-- INDEXED BY); jobs_pending (status, id) is replaced by it, jobs_running and jobs_pending_queued.
DROP INDEX `jobs_pending`;--> statement-breakpoint
DROP INDEX `jobs_scheduled`;--> statement-breakpoint
DROP INDEX `jobs_resource_group`;--> statement-breakpoint
DROP INDEX `jobs_runner`;--> statement-breakpoint
CREATE INDEX `jobs_queue` ON `jobs` (`id`,`project_id`,`tag_list`) WHERE status = 'pending' AND runner_id IS NULL AND kind = 'build';--> statement-breakpoint
CREATE INDEX `jobs_running` ON `jobs` (`id`) WHERE status = 'running';--> statement-breakpoint
CREATE INDEX `jobs_scheduled` ON `jobs` (`scheduled_at`) WHERE status = 'scheduled';--> statement-breakpoint
CREATE INDEX `jobs_resource_group` ON `jobs` (`resource_group_id`,`status`) WHERE resource_group_id IS NOT NULL;--> statement-breakpoint
CREATE INDEX `jobs_runner` ON `jobs` (`runner_id`,`status`) WHERE runner_id IS NOT NULL;