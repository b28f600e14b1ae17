-- The approval console as people read it (issue 14).

-- The page per action shows the action's history from the audit log: every action.* entry names
-- its action in detail->>'action_id'. This index finds them without a scan of the tenant's chain.
create index audit_events_by_action on audit_events (tenant_id, (detail->>'action_id'), seq);

-- The shop's time zone (IANA name, e.g. Europe/Amsterdam): the console shows times in it, with
-- the zone named. Null: UTC. The service checks the name against the runtime's zone database
-- before storing it; the check here only keeps the column to that shape.
alter table tenant_settings add column time_zone text
  check (time_zone is null or (length(time_zone) <= 64 and time_zone ~ '^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$'));
-- Tenant admins set it on the console's settings page (RLS: tenant_settings_admin).
grant update (time_zone) on tenant_settings to commerce_app;
