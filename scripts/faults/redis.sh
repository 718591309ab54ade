# Part of scripts/faults.sh (sourced): Redis killed, then Redis hung (SIGSTOP), each followed by its recovery.
#
# Killed: connections are refused at once. Health answers 503 (cache unhealthy) at once, liveness 200; logins
# are refused with 503 and audited; bearer-token requests are refused with 503 (the revocation list cannot be
# read), so nothing is written. Hung: connections are accepted and never answered; the first cache call of
# the server waits its socket timeout (CACHE_SOCKET_TIMEOUT_SECONDS, 1 s), then the process fails fast for
# CACHE_BREAKER_SECONDS (3 s) before it tries again.

phase redis-killed
redis_kill
probe_all
expect_not_ready Redis
probe_all # a second round: the cache breaker is open now
expect_not_ready Redis
redis_start
expect_recovery redis-killed

phase redis-stopped
redis_pause
settle
probe_all
expect_not_ready Redis
probe_all
expect_not_ready Redis
redis_resume
expect_recovery redis-stopped
