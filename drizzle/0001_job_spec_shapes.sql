-- jobs.spec follows src/db/job-spec.ts: `retry` is {max, when, exit_codes}, `cache` a list,
-- `environment` {name, url?, action}. Rows planned by earlier versions are upgraded here.
UPDATE jobs SET spec = json_set(spec, '$.retry', json_object('max', json_extract(spec, '$.retry'), 'when', json_array('always'), 'exit_codes', json_array()))
  WHERE json_type(spec, '$.retry') = 'integer';
--> statement-breakpoint
UPDATE jobs SET spec = json_set(spec, '$.cache', json_array(json_extract(spec, '$.cache')))
  WHERE json_type(spec, '$.cache') = 'object';
--> statement-breakpoint
UPDATE jobs SET spec = json_set(spec, '$.environment', json_object('name', json_extract(spec, '$.environment'), 'action', 'start'))
  WHERE json_type(spec, '$.environment') = 'text';
--> statement-breakpoint
UPDATE jobs SET spec = json_set(spec, '$.environment.action', 'start')
  WHERE json_type(spec, '$.environment') = 'object' AND json_type(spec, '$.environment.action') IS NULL;
