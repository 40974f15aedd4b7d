ALTER TABLE `projects` ADD `repo_url_by_admin` integer DEFAULT false NOT NULL;--> statement-breakpoint
-- Existing projects: their repo_url counts as an administrator's when an admin owns the
-- project, or when nobody does (made with the admin token before users existed).
UPDATE `projects` SET `repo_url_by_admin` = 1 WHERE NOT EXISTS (
  SELECT 1 FROM `members` m WHERE m.`project_id` = `projects`.`id` AND m.`access_level` = 50
) OR EXISTS (
  SELECT 1 FROM `members` m JOIN `users` u ON u.`id` = m.`user_id`
  WHERE m.`project_id` = `projects`.`id` AND m.`access_level` = 50 AND u.`admin` = 1
);
