# Part of scripts/faults.sh (sourced): PostgreSQL stopped (fast shutdown: connections closed), then started.
#
# While it is down: liveness 200, readiness and health 503 (database unhealthy), logins and every API call
# that needs the database 503 (DB_POOL_TIMEOUT bounds the wait for a connection), nothing written.

phase postgres-stopped
pg_stop
settle
probe_all
expect_not_ready PostgreSQL
pg_start
expect_recovery postgres-stopped
