#!/usr/bin/env bash
# PostgreSQL and Redis for the engine's integration tests: start them when they are down.
set -uo pipefail
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
PGHOST=${PGHOST:-127.0.0.1}; PGPORT=${PGPORT:-5432}
REDIS_PORT=${REDIS_PORT:-6379}

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "$@" >/dev/null
}

pg_up() { pg_isready -q -h "$PGHOST" -p "$PGPORT" 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }

if ! command -v pg_isready >/dev/null || ! command -v pg_ctlcluster >/dev/null; then
  echo "Installing PostgreSQL..."; apt_install postgresql
fi
if ! pg_up; then
  echo "Starting PostgreSQL..."
  if ls /etc/postgresql/*/main >/dev/null 2>&1; then
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start || true
  fi
  for _ in $(seq 50); do pg_up && break; sleep 0.2; done
fi
if ! pg_up; then
  # No cluster to start: run a private one (initdb refuses root, so run it as postgres).
  echo "Starting a private PostgreSQL on $PGPORT..."
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  DATA=/tmp/hsync-pg
  mkdir -p "$DATA" && chown postgres:postgres "$DATA"
  [ -f "$DATA/data/PG_VERSION" ] || su postgres -c "$PGBIN/initdb -D $DATA/data -U postgres --auth=trust -E UTF8 --locale=C.UTF-8" >/dev/null
  su postgres -c "$PGBIN/pg_ctl -D $DATA/data -l $DATA/pg.log -o '-p $PGPORT -k $DATA -c listen_addresses=127.0.0.1 -c fsync=off' -w start" >/dev/null
fi
pg_up || { echo "PostgreSQL is not reachable on $PGHOST:$PGPORT"; exit 1; }

if ! command -v redis-server >/dev/null; then echo "Installing Redis..."; apt_install redis-server; fi
if ! redis_up; then
  echo "Starting Redis..."
  mkdir -p /tmp/hsync-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir /tmp/hsync-redis --logfile /tmp/hsync-redis/redis.log
  for _ in $(seq 50); do redis_up && break; sleep 0.1; done
fi
redis_up || { echo "Redis is not reachable on 127.0.0.1:$REDIS_PORT"; exit 1; }
echo "PostgreSQL and Redis are up."
