-- The shared store of rate-limit budgets (PRODUCT.md §4, F5): every instance counts in the same rows.
-- Layout is rate-limiter-flexible's RateLimiterPostgres table. Keys name their tenant inside
-- ('t:<tenant>:token:<id>'), carry no customer data, and expire; no RLS: the table holds counters,
-- not tenant rows, and the application role is the only one that needs it.
create table rate_limit_buckets (
  key varchar(255) primary key,
  points integer not null default 0,
  expire bigint
);
create index rate_limit_buckets_expire on rate_limit_buckets (expire);
grant select, insert, update, delete on rate_limit_buckets to commerce_app;
