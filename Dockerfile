# Majed Vanna: one daphne process on port 7777 as a non-root user (README "Production").
# Build: docker build -t majed-vanna .
# Run:   docker run -p 7777:7777 -e SECRET_KEY=... -e ALLOWED_HOSTS=example.com,127.0.0.1 \
#          -e DATABASE_URL=postgres://... -e REDIS_URL=redis://... -v mv-data:/data majed-vanna
# (keep 127.0.0.1 in ALLOWED_HOSTS: the container health check calls http://127.0.0.1:7777/api/v1/health/live)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_ENV=production \
    MV_DATA_DIR=/data \
    STATIC_ROOT=/app/staticfiles \
    PORT=7777

WORKDIR /app
RUN useradd --create-home --uid 10001 app && mkdir -p /data /app/staticfiles && chown app:app /data /app/staticfiles

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY --chown=app:app . .
USER app
# Static files (admin, API docs) are collected into the image; WhiteNoise serves them from daphne.
# The key below exists only for this build step; a running container needs its own SECRET_KEY.
RUN SECRET_KEY=collectstatic-only MV_DATA_DIR=/tmp/build-data python manage.py collectstatic --noinput

VOLUME ["/data"]
EXPOSE 7777
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:7777/api/v1/health/live').status != 200)"
# Migrations run before the server starts (with several replicas, run them once as a separate job instead).
# No --proxy-headers: the client address comes from TRUSTED_PROXY_COUNT alone (README "Production"); the read
# deadlines for slow clients are HTTP_HEADER_TIMEOUT_SECONDS / HTTP_BODY_TIMEOUT_SECONDS.
CMD ["sh", "-c", "python manage.py migrate --noinput && exec daphne -b 0.0.0.0 -p ${PORT} --websocket_connect_timeout 5 --application-close-timeout 10 majed_vanna.asgi:application"]
