"""The floor ``bench/platform.py`` measures against: a bare Django + DRF + simplejwt project with an
``auth/me`` and a users list equivalent to Majed Vanna's, over the same database table (``accounts_user``,
read through an unmanaged model). Stock settings: startproject's middleware, DRF page-number pagination,
simplejwt authentication, no throttling, no envelope, no audit; the same connection pool on PostgreSQL."""
