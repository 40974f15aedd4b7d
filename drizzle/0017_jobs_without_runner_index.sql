-- No index on jobs.runner_id: each runner's entries sat on a leaf of their own, so a batch of
-- claims by many runners wrote one page per runner (about half of what the batch wrote: bench
-- P2). A runner's running jobs are found through jobs_running; deleting a runner (its
-- ON DELETE SET NULL) reads the jobs table once.
DROP INDEX `jobs_runner`;