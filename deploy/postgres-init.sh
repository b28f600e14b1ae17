#!/bin/sh
# Runs once, when the postgres container initialises an empty volume (docker-entrypoint-initdb.d).
# docs/DESIGN.md §3: migrations run as an owner role that is not a superuser; the service's runtime role
# is neither superuser nor BYPASSRLS and owns nothing. The bootstrap superuser is used only here.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v owner_password="$COMMERCE_OWNER_PASSWORD" -v app_password="$COMMERCE_APP_PASSWORD" <<'SQL'
create role commerce_owner with login nosuperuser nobypassrls nocreatedb nocreaterole password :'owner_password';
create role commerce_app with login nosuperuser nobypassrls nocreatedb nocreaterole noinherit password :'app_password';
create database commerce owner commerce_owner;
revoke all on database commerce from public;
grant connect on database commerce to commerce_app;
SQL
