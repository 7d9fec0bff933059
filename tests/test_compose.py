"""The production layout (docker-compose.yml, docker/) checked without a Docker engine.

No PyPI package ships a current compose-spec JSON schema (docker-compose 1.29.2 has the
2021 one, which knows neither the top-level `name` nor the `env_file` long syntax), so
these are structural checks of what the deployment relies on: keys, images and tags,
dependencies and health checks, volumes, interpolated variables and their documentation
in .env.example, the Airflow settings shared through the `x-airflow-common` anchor, the
Dockerfile, the init script and the Oracle demo loader.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "docker" / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"

AIRFLOW_SERVICES = {
    "airflow-api-server": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
}
TOP_LEVEL = {
    "version",
    "name",
    "include",
    "services",
    "networks",
    "volumes",
    "secrets",
    "configs",
    "models",
}
# service properties of the Compose Specification that this layout may use
SERVICE_KEYS = {
    "build",
    "image",
    "command",
    "entrypoint",
    "environment",
    "env_file",
    "volumes",
    "ports",
    "expose",
    "depends_on",
    "healthcheck",
    "restart",
    "profiles",
    "user",
    "shm_size",
    "working_dir",
    "networks",
    "labels",
    "logging",
    "deploy",
    "stop_grace_period",
    "container_name",
    "hostname",
    "init",
    "ulimits",
    "extra_hosts",
    "secrets",
    "configs",
}
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}")


# --------------------------------------------------------------------------- helpers


def compose_text(comments: bool = True) -> str:
    text = COMPOSE.read_text(encoding="utf-8")
    return text if comments else re.sub(r"(?m)(^|\s)#.*$", "", text)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(compose_text())


def env_example() -> dict[str, str]:
    """Every name .env.example documents (assigned or commented out) → its value."""
    names = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$", line.strip())
        if m:
            names[m.group(1)] = m.group(2).strip()
    return names


def interpolate(value, env: dict[str, str]):
    """Compose's variable interpolation (`${V}`, `${V:-d}`, `${V-d}`, `${V:?e}`, `${V?e}`,
    `$$`) applied to every string of a loaded file."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def one(m: re.Match) -> str:
        name, op, arg = m.group(1), m.group(2), m.group(3) or ""
        current = env.get(name)
        unset_or_empty = not current
        if op in (":-", "-"):
            return arg if (unset_or_empty if op == ":-" else current is None) else current
        if op in (":?", "?"):
            if unset_or_empty if op == ":?" else current is None:
                raise KeyError(f"required variable {name}: {arg}")
            return current
        return current or ""

    return _VAR.sub(one, value.replace("$$", "\x00")).replace("\x00", "$")


def filled_env() -> dict[str, str]:
    """.env.example with a dummy value in every required (empty) secret."""
    return {k: (v or f"test-{k.lower()}") for k, v in env_example().items()}


@pytest.fixture(scope="module")
def resolved(compose) -> dict:
    return interpolate(compose, filled_env())


def as_env_dict(environment) -> dict[str, str]:
    if isinstance(environment, list):
        return dict(item.split("=", 1) for item in environment)
    return {k: "" if v is None else str(v) for k, v in (environment or {}).items()}


def image_of(service: dict) -> str | None:
    return service.get("image")


# --------------------------------------------------------------------------- structure


def test_top_level_keys(compose):
    unknown = {k for k in compose if k not in TOP_LEVEL and not k.startswith("x-")}
    assert not unknown, f"unknown top-level keys: {unknown}"
    assert "x-airflow-common" in compose, (
        "shared Airflow settings belong in the x-airflow-common anchor"
    )


def test_service_keys_are_compose_properties(compose):
    for name, service in compose["services"].items():
        unknown = set(service) - SERVICE_KEYS
        assert not unknown, f"service {name}: unknown keys {unknown}"


def test_every_service_has_an_image_with_an_explicit_tag(resolved):
    for name, service in resolved["services"].items():
        assert "image" in service or "build" in service, (
            f"service {name} has neither image nor build"
        )
        image = image_of(service)
        if image:
            repo, _, tag = image.rpartition(":")
            assert repo and "/" not in tag, f"service {name}: image {image!r} has no explicit tag"
            assert tag != "latest", f"service {name}: image {image!r} uses the latest tag"


def test_build_context_and_dockerfile_exist(compose):
    for name, service in compose["services"].items():
        build = service.get("build")
        if build:
            context = ROOT / build["context"]
            assert context.is_dir(), f"service {name}: build context {context} missing"
            assert (context / build["dockerfile"]).is_file(), (
                f"service {name}: {build['dockerfile']} missing"
            )
    assert (ROOT / "docker" / "Dockerfile.dockerignore").is_file()
    ignored = (ROOT / "docker" / "Dockerfile.dockerignore").read_text().split()
    for path in (".venv", ".env", ".pt2qe", ".git", "outputs"):
        assert path in ignored, f"{path} must stay out of the build context"


def test_depends_on_targets_and_conditions(compose):
    services = compose["services"]
    for name, service in services.items():
        depends = service.get("depends_on") or {}
        assert isinstance(depends, dict), (
            f"service {name}: depends_on needs conditions (long syntax)"
        )
        for target, spec in depends.items():
            assert target in services, f"service {name} depends on unknown service {target}"
            assert target != name, f"service {name} depends on itself"
            condition = spec.get("condition")
            assert condition in CONDITIONS, f"{name} → {target}: condition {condition!r}"
            if condition == "service_healthy":
                assert "healthcheck" in services[target], (
                    f"{name} waits for {target} to be healthy, which has no healthcheck"
                )
            if condition == "service_completed_successfully":
                assert str(services[target].get("restart", "no")) == "no", (
                    f"{target} is a one-shot: restart must be 'no'"
                )


def test_long_running_services_have_healthchecks(compose):
    for name, service in compose["services"].items():
        if str(service.get("restart", "no")) == "no":
            continue
        check = service.get("healthcheck")
        assert check, f"long-running service {name} has no healthcheck"
        assert check.get("test") and check.get("interval"), (
            f"service {name}: healthcheck needs test and interval"
        )
        test = check["test"]
        if isinstance(test, list):
            assert test[0] in ("CMD", "CMD-SHELL"), (
                f"service {name}: healthcheck test must start with CMD or CMD-SHELL"
            )
        assert re.fullmatch(r"\d+(ms|s|m|h)", check["interval"]), (
            f"service {name}: interval {check['interval']!r}"
        )


def test_startup_order(compose):
    services = compose["services"]
    init = services["airflow-init"]
    assert init["depends_on"] == {
        "airflow-db": {"condition": "service_healthy"},
        "warehouse": {"condition": "service_healthy"},
    }
    for name in AIRFLOW_SERVICES:
        depends = services[name]["depends_on"]
        assert depends["airflow-init"] == {"condition": "service_completed_successfully"}, name
        assert depends["airflow-db"] == {"condition": "service_healthy"}, name
        assert depends["warehouse"] == {"condition": "service_healthy"}, name
    assert services["airflow-scheduler"]["depends_on"]["airflow-api-server"] == {
        "condition": "service_healthy"
    }


def test_named_volumes_are_declared_and_bind_mounts_exist(compose):
    declared = set(compose.get("volumes") or {})
    used = set()
    for name, service in compose["services"].items():
        for volume in service.get("volumes") or []:
            source = volume.split(":")[0] if isinstance(volume, str) else volume["source"]
            if source.startswith((".", "/")):
                path = ROOT / source
                assert path.exists() or source in ("./outputs",), (
                    f"service {name}: bind mount {source} missing"
                )
            else:
                assert source in declared, f"service {name}: volume {source} is not declared"
                used.add(source)
    assert declared == used, f"declared but unused volumes: {declared - used}"


def test_published_ports_default_to_localhost(compose):
    for name, service in compose["services"].items():
        for port in service.get("ports") or []:
            resolved = interpolate(port, {})
            assert resolved.startswith("127.0.0.1:"), (
                f"service {name} publishes {resolved} beyond localhost by default"
            )


# --------------------------------------------------------------------------- variables and secrets


def test_every_variable_is_documented_in_env_example():
    documented = env_example()
    text = compose_text() + (ROOT / "docker" / "airflow-init.sh").read_text()
    referenced = {m.group(1) for m in _VAR.finditer(compose_text(comments=False).replace("$$", ""))}
    assert referenced, "no variable found: the scanner is broken"
    missing = referenced - set(documented)
    assert not missing, (
        f"variables used in docker-compose.yml but not in .env.example: {sorted(missing)}"
    )
    # a bare $VAR (no braces) is interpolated too; escaped $$ is for the container's shell
    bare = re.findall(r"\$(?!\{)[A-Za-z_]\w*", compose_text(comments=False).replace("$$", ""))
    assert not bare, f"use ${{VAR}}: {bare}"
    assert "AIRFLOW_ADMIN_PASSWORD" in text


def test_required_secrets_fail_without_env(compose):
    with pytest.raises(KeyError, match="required variable"):
        interpolate(compose, {})
    for name in (
        "PT2QE_WAREHOUSE_PASSWORD",
        "AIRFLOW_DB_PASSWORD",
        "AIRFLOW_FERNET_KEY",
        "AIRFLOW_API_SECRET_KEY",
        "AIRFLOW_JWT_SECRET",
        "AIRFLOW_ADMIN_PASSWORD",
        "PT2QE_BI_PASSWORD",
    ):
        assert re.search(r"\$\{" + name + r":\?", compose_text()), (
            f"{name} must be required (${{{name}:?…}})"
        )
        assert env_example()[name] == "", (
            f".env.example must not hold a value for the secret {name}"
        )


def test_no_secret_literal_in_compose(compose):
    secretish = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|_KEY$")
    for name, service in compose["services"].items():
        for key, value in as_env_dict(service.get("environment")).items():
            if secretish.search(key) and not key.endswith("_FILE"):
                assert value.startswith("${") and value.endswith("}"), (
                    f"service {name}: {key} must come from .env"
                )
            # every variable replaced by a marker: a URL's password must be one
            marked = interpolate(value, {k: f"__{k}__" for k in env_example()})
            for m in re.finditer(r"://([^:/@\s]+):([^@\s]*)@", marked):
                assert re.fullmatch(r"__[A-Z0-9_]+__", m.group(2)), (
                    f"service {name}: {key} has a password literal in a URL"
                )


def test_env_file_is_the_git_ignored_env(compose):
    env_files = compose["x-airflow-common"]["env_file"]
    assert [e["path"] if isinstance(e, dict) else e for e in env_files] == [".env"]


# --------------------------------------------------------------------------- Airflow


def test_airflow_services_share_the_common_settings(compose, resolved):
    common = as_env_dict(resolved["x-airflow-common"]["environment"])
    for name, command in AIRFLOW_SERVICES.items():
        service = resolved["services"][name]
        assert service["command"] == command, name
        assert service["image"] == resolved["x-airflow-common"]["image"], name
        assert service["user"] == resolved["x-airflow-common"]["user"], name
        env = as_env_dict(service["environment"])
        assert env == common, f"{name}: environment differs from x-airflow-common"
        assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
        for key in (
            "AIRFLOW__CORE__FERNET_KEY",
            "AIRFLOW__API__SECRET_KEY",
            "AIRFLOW__API_AUTH__JWT_SECRET",
        ):
            assert env[key], f"{name}: {key} must be set (identical across the Airflow services)"
        assert (
            env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"]
            == "http://airflow-api-server:8080/execution/"
        )
        assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/pt2qe/dags"
        assert env["AIRFLOW__CORE__PLUGINS_FOLDER"] == "/opt/pt2qe/plugins"
        assert env["PT2QE_HOME"] == "/opt/pt2qe" and env["PT2QE_STATE_DIR"].startswith(
            "/opt/pt2qe/"
        )
    # the anchor is merged, not copied: the services name it
    for name in [*AIRFLOW_SERVICES, "airflow-init"]:
        assert re.search(rf"\n  {name}:\n    <<: \*airflow-common\n", compose_text()), name


def test_metadata_database_is_separate_from_the_warehouse(resolved):
    env = as_env_dict(resolved["x-airflow-common"]["environment"])
    metadata = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    warehouse = env["PT2QE_WAREHOUSE_URL"]
    assert metadata.startswith("postgresql+psycopg2://") and "@airflow-db:5432/" in metadata
    assert warehouse.startswith("postgresql://") and "@warehouse:5432/" in warehouse
    services = resolved["services"]
    for name in ("warehouse", "airflow-db"):
        assert services[name]["image"].split(":") == ["postgres", "16"], name
    assert services["warehouse"]["volumes"] != services["airflow-db"]["volumes"]


def test_warehouse_url_is_read_by_the_code(resolved):
    from pt2qe import warehouse

    env = as_env_dict(resolved["x-airflow-common"]["environment"])
    url = warehouse._normalise(env["PT2QE_WAREHOUSE_URL"])
    wh = warehouse.Warehouse(url, embedded=False)
    assert (wh.host, wh.port, wh.user, wh.dbname) == ("warehouse", 5432, "pt2qe", "pt2qe")
    assert wh.password == "test-pt2qe_warehouse_password"
    assert "pt2qe_bi@warehouse:5432/pt2qe" in warehouse.bi_url(wh)


def test_airflow_init(compose):
    init = compose["services"]["airflow-init"]
    assert init["restart"] == "no" and init["user"] == "0:0"
    script = ROOT / "docker" / "airflow-init.sh"
    assert init["command"] == ["/opt/pt2qe/docker/airflow-init.sh"]
    text = script.read_text()
    assert text.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in text
    assert "airflow db migrate" in text
    assert "AIRFLOW_ADMIN_PASSWORD" in text and "passwords_file" in text
    env = as_env_dict(compose["x-airflow-common"]["environment"])
    assert (
        env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]
        == "/opt/airflow/auth/passwords.json"
    )


def test_project_is_in_the_image_or_mounted(compose):
    dockerfile = DOCKERFILE.read_text()
    copied = set(re.findall(r"^COPY\s+(?:--\S+\s+)*(\S+)/\s", dockerfile, flags=re.M))
    mounted = {v.split(":")[0].removeprefix("./") for v in compose["x-airflow-common"]["volumes"]}
    for folder in ("dags", "plugins", "include", "dbt_project", "expectations", "config"):
        assert folder in copied | mounted, f"{folder}/ is neither copied into the image nor mounted"
        assert (ROOT / folder).is_dir()
    for folder in ("inputs", "corrections", "outputs"):
        assert folder in mounted, (
            f"{folder}/ must be mounted so the pricing team's files live on the host"
        )


def test_dockerfile(compose):
    text = DOCKERFILE.read_text()
    lock = (ROOT / "requirements.lock").read_text()
    airflow = re.search(r"^apache-airflow==(\S+)$", lock, flags=re.M).group(1)
    base = re.search(r"^ARG AIRFLOW_IMAGE=(\S+)$", text, flags=re.M).group(1)
    assert base == f"apache/airflow:{airflow}-python3.11", (
        "the base image must match the locked Airflow"
    )
    assert re.search(r"^FROM \$\{AIRFLOW_IMAGE\}$", text, flags=re.M)
    assert "-r requirements.lock" in text
    assert re.search(r"pip install .*--no-deps -e \.", text)
    assert "ensure_manifest" in text, "the dbt manifest must be built into the image"
    assert re.findall(r"^USER (\S+)$", text, flags=re.M)[-1] == "airflow", (
        "the image must not run as root"
    )
    assert "PT2QE_HOME=/opt/pt2qe" in text


# --------------------------------------------------------------------------- Oracle profile


def test_oracle_services_are_under_the_oracle_profile(compose):
    services = compose["services"]
    assert services["oracle"]["profiles"] == ["oracle"]
    assert services["oracle"]["image"].startswith("gvenzl/oracle-free:")
    assert services["oracle-demo-source"]["profiles"] == ["oracle"]
    assert services["oracle-demo-source"]["depends_on"] == {
        "oracle": {"condition": "service_healthy"}
    }
    assert (
        services["oracle-demo-source"]["entrypoint"][-1]
        == "/opt/pt2qe/docker/oracle/load_demo_source.py"
    )
    for name, service in services.items():
        if name not in ("oracle", "oracle-demo-source"):
            assert "profiles" not in service, f"{name} must start without a profile"
    env = as_env_dict(compose["x-airflow-common"]["environment"])
    assert env["AIRFLOW_CONN_PT2QE_DEMO_ORACLE"].startswith("oracle://")
    assert env["AIRFLOW_CONN_PT2QE_DEMO_ORACLE"].endswith("@oracle:1521/?service_name=FREEPDB1")


def _loader():
    spec = importlib.util.spec_from_file_location(
        "load_demo_source", ROOT / "docker" / "oracle" / "load_demo_source.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_oracle_loader_ddl_covers_the_contract():
    from pt2qe.contract import TABLES

    loader = _loader()
    for table in TABLES:
        ddl = loader.create_table_sql(table)
        assert ddl.startswith(f"CREATE TABLE {table.name} (")
        for col in table.columns:
            assert f"    {col.name} {loader.ORACLE_TYPES[col.type]}" in ddl
        insert = loader.insert_sql(table)
        assert insert.count(":") == len(table.columns)


def test_oracle_loader_types_rows():
    from datetime import date
    from decimal import Decimal

    import pyarrow as pa
    from pt2qe.contract import table

    loader = _loader()
    t = table("SYS_MD_CALENDRIER_SYSCO")
    batch = pa.RecordBatch.from_arrays(
        [
            pa.array(["2025-01-06"]),
            pa.array(["2025-01-12"]),
            pa.array(["2025_Q03"]),
            pa.array(["2025"]),
            pa.array([None], pa.string()),
        ],
        names=[c.pg_name for c in t.columns],
    )
    assert loader.rows_of(batch, t) == [
        (date(2025, 1, 6), date(2025, 1, 12), "2025_Q03", "2025", None)
    ]
    t = table("SYS_TARIF_SIMULATION")
    cols = [pa.array(["X"] if c.type == "TEXT" else ["12.5"], pa.string()) for c in t.columns]
    row = loader.rows_of(pa.RecordBatch.from_arrays(cols, names=[c.pg_name for c in t.columns]), t)[
        0
    ]
    assert Decimal("12.5") in row
