-- Sign-in throttles (O11, O13): progressive delays per (account, address), per account for browsers
-- that never signed in, and per device cookie; shared by every instance. One row per counter:
-- `key` is 'pair:', 'account:' or 'device:' and a SHA-256 (no email, address or cookie in clear);
-- `attempts` counts attempts let through to the password check (successes are given back);
-- `not_before` is when the next one may be evaluated; the row means nothing after `expires_at`.
-- No tenant rows and no RLS, like rate_limit_buckets: counters only, written by the application role.
create table sign_in_throttles (
  key text primary key check (key ~ '^(pair|account|device):[0-9a-f]{64}$'),
  attempts integer not null default 0 check (attempts >= 0),
  not_before timestamptz not null default now(),
  expires_at timestamptz not null default now()
);
create index sign_in_throttles_expires on sign_in_throttles (expires_at);
grant select, insert, update, delete on sign_in_throttles to commerce_app;
