-- An incident's mode (live or drill) is fixed when it is opened: drills never become live.
CREATE TRIGGER `incidents_mode_immutable` BEFORE UPDATE OF `mode` ON `incidents`
WHEN NEW.`mode` IS NOT OLD.`mode`
BEGIN
  SELECT RAISE(ABORT, 'incident mode is immutable');
END;
