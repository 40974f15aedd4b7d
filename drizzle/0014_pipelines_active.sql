-- Auto-cancel looks at the ref's running pipelines on every new pipeline: without this index it
-- walked every pipeline the ref ever had (pipelines_project_ref) and read each row (bench P3).
CREATE INDEX `pipelines_active` ON `pipelines` (`project_id`,`ref`,`id`,`sha`,`created_at`,`source`) WHERE status IN ('created', 'waiting_for_resource', 'preparing', 'pending', 'running', 'scheduled');