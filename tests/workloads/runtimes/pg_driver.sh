#!/usr/bin/env bash
# One PostgreSQL backend for the runtime corpus: prints "ready BACKEND_PID", then every 250 ms
# "figure buffers_used N" (pg_buffercache: shared buffers holding a page). With MODE=scan it also reads 4,000 more
# rows of table t through its index each time, so the backend touches more and more shared buffers.
#   pg_driver.sh SOCKET_DIR PORT MODE
set -euo pipefail
dir=$1 port=$2 mode=$3
{
  echo "\\pset tuples_only on"
  echo "select 'figure buffers_used ' || count(*) from pg_buffercache where relfilenode is not null;"
  echo "select 'ready ' || pg_backend_pid();"
  i=0
  while true; do
    if [ "$mode" = scan ]; then
      echo "select 'rows ' || count(pad) from t where id between $((i * 4000)) and $((i * 4000 + 3999));"
      i=$((i + 1))
    fi
    echo "select 'figure buffers_used ' || count(*) from pg_buffercache where relfilenode is not null;"
    sleep 0.25
  done
} | psql -h "$dir" -p "$port" -d postgres -qAt -v ON_ERROR_STOP=1
