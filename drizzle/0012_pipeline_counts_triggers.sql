-- Custom migration (drizzle-kit generate --custom): pipeline_counts is kept by these triggers,
-- in the transaction of every insert and delete of a pipeline, whichever process made it
-- (cascade deletes of a project's pipelines too). Keep this file when migrations are
-- regenerated: drizzle-kit cannot express triggers.
CREATE TRIGGER `pipelines_count_insert` AFTER INSERT ON `pipelines` BEGIN
  INSERT INTO `pipeline_counts` (`project_id`, `n`) VALUES (NEW.`project_id`, 1) ON CONFLICT (`project_id`) DO UPDATE SET `n` = `n` + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `pipelines_count_delete` AFTER DELETE ON `pipelines` BEGIN
  UPDATE `pipeline_counts` SET `n` = `n` - 1 WHERE `project_id` = OLD.`project_id`;
END;
--> statement-breakpoint
-- A project's row goes with the project (its pipelines have gone by cascade).
CREATE TRIGGER `pipelines_count_project_delete` AFTER DELETE ON `projects` BEGIN
  DELETE FROM `pipeline_counts` WHERE `project_id` = OLD.`id`;
END;
--> statement-breakpoint
-- Pipelines that existed before this migration: counted once, here.
INSERT INTO `pipeline_counts` (`project_id`, `n`) SELECT `project_id`, count(*) FROM `pipelines` WHERE true GROUP BY `project_id`;
