FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY integration_admin ./integration_admin
COPY sync_engine ./sync_engine
COPY emulators ./emulators
RUN pip install .
COPY . .
RUN DJANGO_SETTINGS_MODULE=integration_admin.settings SECRET_KEY=build FIELD_ENCRYPTION_KEY=build \
    python manage.py collectstatic --noinput
USER nobody
