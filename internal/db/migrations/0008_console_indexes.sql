-- The staff console reads a bundle's history by subject, and ends a
-- disabled account's sessions by username.
CREATE INDEX audit_log_subject ON audit_log (subject, id);
CREATE INDEX staff_sessions_username ON staff_sessions (username);
