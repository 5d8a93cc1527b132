"""The deployment files (issue 18), tested as far as a machine without a container engine or
a cluster allows: they parse, compose.yaml and the Kubernetes manifests validate against
their published JSON schemas (shipped in tests/data/schemas, see its README), and every
command, probe path and environment variable they use exists in the code. Building the
image and running it are not done here (docs/operations.md says so)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot.cli import _parser

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "tests" / "data" / "schemas"
K8S = ROOT / "deploy" / "kubernetes"
K8S_SCHEMAS = {
    ("apps/v1", "Deployment"): "kubernetes-1.33/deployment-apps-v1.json",
    ("batch/v1", "Job"): "kubernetes-1.33/job-batch-v1.json",
    ("v1", "Service"): "kubernetes-1.33/service-v1.json",
    ("v1", "Secret"): "kubernetes-1.33/secret-v1.json",
    ("v1", "ConfigMap"): "kubernetes-1.33/configmap-v1.json",
}
ENV_NAME = re.compile(r"\b((?:WOLBOT|SLACK|MICROSOFT)_[A-Z_]+)\b")
# Set for the platform's tools, not read by our code.
FOREIGN_ENV = {
    "MPLCONFIGDIR",
    "PYTHONUNBUFFERED",
    "PIP_DISABLE_PIP_VERSION_CHECK",
    "PIP_NO_CACHE_DIR",
    "PATH",
    "POSTGRES_DB",
    "POSTGRES_USER",
    "POSTGRES_PASSWORD",
}


def code_text() -> str:
    return "\n".join(
        p.read_text(encoding="utf-8")
        for folder in ("bot", "adapters")
        for p in (ROOT / folder).rglob("*.py")
    )


def manifests() -> list[tuple[Path, dict]]:
    found = []
    for path in sorted(K8S.glob("*.yaml")):
        found += [(path, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return found


def validate(schema_file: str, document: object) -> None:
    schema = json.loads((SCHEMAS / schema_file).read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    errors = sorted(cls(schema).iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def test_the_validation_itself_catches_mistakes() -> None:
    """The schemas are strict enough to fail a broken manifest (a test that can fail)."""
    (_path, deployment), *_ = [m for m in manifests() if m[1]["kind"] == "Deployment"]
    broken = json.loads(json.dumps(deployment))
    broken["spec"]["replicas"] = "two"
    broken["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["pat"] = "/"
    with pytest.raises(AssertionError):
        validate("kubernetes-1.33/deployment-apps-v1.json", broken)
    with pytest.raises(AssertionError):
        validate("compose-spec.json", {"services": {"x": {"image": 3, "restart": []}}})


def test_compose_file_validates() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    validate("compose-spec.json", compose)
    assert {"db", "migrate", "wolbot"} <= set(compose["services"])
    assert compose["services"]["wolbot"]["environment"]["WOLBOT_AUTO_MIGRATE"] == "0"


def test_kubernetes_manifests_validate() -> None:
    kinds = set()
    for _path, doc in manifests():
        schema = K8S_SCHEMAS[(doc["apiVersion"], doc["kind"])]
        validate(schema, doc)
        kinds.add(doc["kind"])
    assert kinds == {"Deployment", "Job", "Service", "Secret", "ConfigMap"}
    deployment = next(d for _, d in manifests() if d["kind"] == "Deployment")
    assert deployment["spec"]["replicas"] >= 2
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    secret_refs = {
        e["valueFrom"]["secretKeyRef"]["key"]
        for e in pod["containers"][0]["env"]
        if "valueFrom" in e
    }
    assert {"WOLBOT_DATABASE_URL", "WOLBOT_SECRET_KEY"} <= secret_refs


def test_probes_and_entry_points_exist_in_the_code() -> None:
    from adapters.web import build_web_app
    from bot.app import build
    from tests.conftest import make_settings

    app = build_web_app(build(make_settings("sqlite://")), adapters=[])
    routes = {r.resource.canonical for r in app.router.routes() if r.resource is not None}
    paths = []
    for _, doc in manifests():
        if doc["kind"] != "Deployment":
            continue
        container = doc["spec"]["template"]["spec"]["containers"][0]
        paths += [
            container[p]["httpGet"]["path"]
            for p in ("startupProbe", "readinessProbe", "livenessProbe")
        ]
        assert _parser().parse_args(container["args"]).command == "serve"
    job = next(d for _, d in manifests() if d["kind"] == "Job")
    assert (
        _parser().parse_args(job["spec"]["template"]["spec"]["containers"][0]["args"]).action
        == "upgrade"
    )
    dockerfile = (ROOT / "Dockerfile").read_text()
    paths += re.findall(r"127\.0\.0\.1:8080(/\w+)", dockerfile)
    assert paths and set(paths) <= routes, (paths, routes)
    entry = json.loads(re.search(r"^ENTRYPOINT (.+)$", dockerfile, re.M).group(1))
    cmd = json.loads(re.search(r"^CMD (.+)$", dockerfile, re.M).group(1))
    assert entry == ["wolbot"] and _parser().parse_args(cmd).command == "serve"
    assert re.search(r"^USER wolbot$", dockerfile, re.M)  # the runtime stage is not root
    assert len(re.findall(r"^FROM ", dockerfile, re.M)) == 2  # multi-stage
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    for service in ("migrate", "wolbot"):
        _parser().parse_args(compose["services"][service]["command"])
    unit = (ROOT / "deploy" / "systemd" / "wolbot.service").read_text()
    for line in re.findall(r"^Exec\w+=(.+)$", unit, re.M):
        _parser().parse_args(shlex.split(line)[1:])


def test_every_environment_variable_is_read_by_the_code() -> None:
    code = code_text()
    files = [
        ROOT / "Dockerfile",
        ROOT / "compose.yaml",
        ROOT / "deploy/systemd/wolbot.service",
        *K8S.glob("*.yaml"),
    ]
    names = {n for f in files for n in ENV_NAME.findall(f.read_text())}
    assert "WOLBOT_DATABASE_URL" in names
    missing = sorted(n for n in names - FOREIGN_ENV if f'"{n}"' not in code)
    assert not missing, missing


def test_the_image_installs_as_ci_does() -> None:
    """Every pip command of the Dockerfile installs from a hashed lock file, as the Makefile's
    install does; the lock files pin every package with a hash."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    makefile = (ROOT / "Makefile").read_text()
    installs = re.findall(r"pip install (.+)$", dockerfile, re.M)
    assert installs and all("--require-hashes -r" in i or "--no-deps ." in i for i in installs)
    assert "--require-hashes -r requirements.lock" in makefile
    for lock in ("requirements.lock", "requirements-runtime.lock"):
        pins = [
            line
            for line in (ROOT / lock).read_text().splitlines()
            if re.match(r"^[A-Za-z0-9_.-]+==", line)
        ]
        text = (ROOT / lock).read_text()
        assert pins and text.count("--hash=sha256:") >= len(pins), lock
    runtime = (ROOT / "requirements-runtime.lock").read_text()
    assert "\npsycopg==" in runtime and "\npytest==" not in runtime


def test_the_lock_holds_every_dependency() -> None:
    """A dependency added to pyproject.toml without `make lock` would be missing from
    `make install` (which also runs `pip check` for that)."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    locked = {
        re.match(r"^([A-Za-z0-9_.-]+)==", line).group(1).lower().replace("_", "-")
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if re.match(r"^[A-Za-z0-9_.-]+==", line)
    }
    names = {re.match(r"^[A-Za-z0-9_.-]+", d).group(0).lower().replace("_", "-") for d in wanted}
    assert not names - locked, sorted(names - locked)
