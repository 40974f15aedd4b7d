-- Custom migration (drizzle-kit generate --custom): job_counts is kept by these triggers, in
-- the transaction of every change to jobs, whichever process made it (cascade deletes too).
-- Keep this file when migrations are regenerated: drizzle-kit cannot express triggers.
CREATE TRIGGER `jobs_count_insert` AFTER INSERT ON `jobs` BEGIN
  INSERT INTO `job_counts` (`status`, `n`) VALUES (NEW.`status`, 1) ON CONFLICT (`status`) DO UPDATE SET `n` = `n` + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `jobs_count_delete` AFTER DELETE ON `jobs` BEGIN
  UPDATE `job_counts` SET `n` = `n` - 1 WHERE `status` = OLD.`status`;
END;
--> statement-breakpoint
CREATE TRIGGER `jobs_count_status` AFTER UPDATE OF `status` ON `jobs` WHEN OLD.`status` IS NOT NEW.`status` BEGIN
  UPDATE `job_counts` SET `n` = `n` - 1 WHERE `status` = OLD.`status`;
  INSERT INTO `job_counts` (`status`, `n`) VALUES (NEW.`status`, 1) ON CONFLICT (`status`) DO UPDATE SET `n` = `n` + 1;
END;
--> statement-breakpoint
-- Jobs that existed before this migration: counted once, here.
INSERT INTO `job_counts` (`status`, `n`) SELECT `status`, count(*) FROM `jobs` WHERE true GROUP BY `status`;
