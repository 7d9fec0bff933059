#!/usr/bin/env bash
# One-shot initialisation of the PT2QE Airflow deployment (service `airflow-init` of
# docker-compose.yml), run as root before any other Airflow service starts:
#   1. the folders shared with the host (outputs/, corrections/) and the named volumes
#      (state, logs, auth) belong to AIRFLOW_UID so the Airflow services can write them;
#   2. `airflow db migrate` creates or upgrades the metadata database (airflow-db);
#   3. the admin user of the simple auth manager: its password (AIRFLOW_ADMIN_PASSWORD,
#      from .env) is written to the passwords file the api-server reads;
#   4. a smoke check: the pt2qe package imports and the dbt manifest is in the image.
# Running it again is harmless: migrate is idempotent and the password file is rewritten.
set -euo pipefail

uid="${AIRFLOW_UID:-50000}"
: "${AIRFLOW_ADMIN_PASSWORD:?AIRFLOW_ADMIN_PASSWORD is not set (see .env.example)}"
admin="${AIRFLOW_ADMIN_USER:-admin}"
passwords_file="${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE:-/opt/airflow/auth/passwords.json}"

echo "pt2qe init: folders"
mkdir -p /opt/airflow/logs "$(dirname "$passwords_file")" \
    "${PT2QE_STATE_DIR:-/opt/pt2qe/state}" /opt/pt2qe/outputs /opt/pt2qe/corrections
chown -R "${uid}:0" /opt/airflow/logs "$(dirname "$passwords_file")" \
    "${PT2QE_STATE_DIR:-/opt/pt2qe/state}" /opt/pt2qe/outputs /opt/pt2qe/corrections

echo "pt2qe init: airflow db migrate"
/entrypoint airflow db migrate

echo "pt2qe init: admin user '${admin}'"
python - "$passwords_file" "$admin" <<'PY'
import json, os, sys

path, user = sys.argv[1], sys.argv[2]
tmp = path + ".tmp"
with open(tmp, "w", encoding="utf-8") as fh:
    json.dump({user: os.environ["AIRFLOW_ADMIN_PASSWORD"]}, fh)
    fh.write("\n")
os.chmod(tmp, 0o600)
os.replace(tmp, path)
PY
chown "${uid}:0" "$passwords_file"

echo "pt2qe init: smoke check"
python -c "import pt2qe, pt2qe.pipeline; from pt2qe_airflow.pt2qe_cosmos import manifest_path; p = manifest_path(); assert p.exists(), f'missing dbt manifest {p}'; print('dbt manifest', p)"
echo "pt2qe init: done"
