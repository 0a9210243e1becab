# plughost server image: embedded defaults (SQLite in /app/var, in-process broker); set PLUGHOST_* to change.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    PLUGHOST_HOST=0.0.0.0 PLUGHOST_PORT=8080 PLUGHOST_DATA_DIR=/app/var
WORKDIR /app
COPY pyproject.toml README.md ./
COPY host ./host
COPY admin ./admin
COPY workers ./workers
RUN pip install --no-cache-dir .
COPY plugins ./plugins
COPY routes.d ./routes.d
RUN useradd --system --home /app plughost && mkdir -p /app/var && chown plughost /app/var
USER plughost
EXPOSE 8080
VOLUME ["/app/var"]
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz')"
CMD ["sh", "-c", "plughost migrate && exec plughost serve"]
