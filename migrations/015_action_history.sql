-- The approval console's page per action shows the action's history from the audit log (issue 14):
-- every action.* entry names its action in detail->>'action_id'. This index finds them without a
-- scan of the tenant's whole chain. Nothing else changes: no new table, no new grant.
create index audit_events_by_action on audit_events (tenant_id, (detail->>'action_id'), seq);
