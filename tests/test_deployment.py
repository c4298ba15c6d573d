"""The deployment files in docker/: images, compose file and Kubernetes example, checked without a Docker engine.

Every command they give a container is parsed by the real CLI (so a renamed option breaks
this test), the study files they name exist, and `docker compose config` (or the older
`docker-compose config`) accepts the compose file where a client is installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import click
import pytest
import yaml

from gapsearch.cli import main
from tests.conftest import ROOT, require

DOCKER = ROOT / "docker"
CONTAINER_STUDIES = "/work/studies/"


def parse_cli(args: list[str]) -> click.Context:
    """Parse ``gapsearch ARGS`` with the real command line, without running anything."""
    name, *rest = args
    assert name in main.commands, f"no gapsearch command {name!r}"
    return main.commands[name].make_context(name, rest)


def interpolate(text: str) -> str:
    """Compose's ${VAR:-default} and ${VAR:?message} with no variables set, as the defaults read."""
    text = re.sub(r"\$\{(\w+):-([^}]*)\}", r"\2", text)
    return re.sub(r"\$\{(\w+):\?[^}]*\}", "secret", text)


def dockerfile_lines(name: str) -> list[str]:
    return [line.strip() for line in (DOCKER / name).read_text().splitlines() if line.strip() and line[0] != "#"]


@pytest.mark.parametrize(
    ("name", "base"), [("Dockerfile.gpu", "tensorflow/tensorflow:"), ("Dockerfile.cpu", "python:")]
)
def test_images_run_the_gapsearch_cli(name, base):
    lines = dockerfile_lines(name)
    assert next(line for line in lines if line.startswith("FROM ")).split()[1].startswith(base.split(":")[0])
    assert 'ENTRYPOINT ["gapsearch"]' in lines
    assert "STOPSIGNAL SIGTERM" in lines
    install = next(line for line in lines if "pip install" in line)
    assert "'.[postgres,mysql]'" in install  # both database drivers


def test_the_gpu_image_is_the_official_tensorflow_gpu_image():
    lines = dockerfile_lines("Dockerfile.gpu")
    tag = next(line.split("=", 1)[1] for line in lines if line.startswith("ARG TENSORFLOW_TAG="))
    assert "FROM tensorflow/tensorflow:${TENSORFLOW_TAG}" in lines and tag.endswith("gpu")


def compose_services(text: str) -> dict:
    return yaml.safe_load(text)["services"]


def check_compose(services: dict) -> None:
    assert {"postgres", "create", "worker", "worker-cpu", "dashboard"} <= set(services)
    for name in ("create", "worker", "worker-cpu"):
        service = services[name]
        context = parse_cli(service["command"])
        study = context.params["study_file"]
        assert str(study).startswith(CONTAINER_STUDIES) and (ROOT / "studies" / Path(study).name).is_file()
        storage = service["environment"]["GAPSEARCH_STORAGE"]
        assert storage.startswith("postgresql://gapsearch:") and storage.endswith("@postgres:5432/studies")
    assert services["create"]["command"][0] == "create"
    assert services["worker"]["command"][0] == "worker" and services["worker-cpu"]["command"][0] == "worker"
    assert services["worker"]["depends_on"]["create"]["condition"] == "service_completed_successfully"
    assert services["create"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    (gpus,) = services["worker"]["deploy"]["resources"]["reservations"]["devices"]
    assert gpus["driver"] == "nvidia" and gpus["capabilities"] == ["gpu"]
    assert services["worker"]["stop_signal"] == "SIGTERM"
    assert services["dashboard"]["entrypoint"] == ["optuna-dashboard"]
    assert services["dashboard"]["command"][0].startswith("postgresql+psycopg://gapsearch:")


def test_the_compose_file_starts_postgres_a_creator_scalable_workers_and_the_dashboard():
    check_compose(compose_services(interpolate((DOCKER / "compose.yaml").read_text())))


def _compose_client() -> list[str] | None:
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_docker_compose_config_accepts_the_compose_file():
    client = _compose_client()
    require(client is not None, "no docker compose client is installed (make test installs docker-compose)")
    assert client is not None
    env = {"PATH": "/usr/bin:/bin:/usr/local/bin", "POSTGRES_PASSWORD": "s3cret"}
    resolved = subprocess.run(
        [*client, "--profile", "cpu", "config"], cwd=DOCKER, env=env, capture_output=True, text=True
    )
    assert resolved.returncode == 0, resolved.stderr
    check_compose(compose_services(resolved.stdout))
    missing = subprocess.run([*client, "config"], cwd=DOCKER, env={"PATH": env["PATH"]}, capture_output=True, text=True)
    assert missing.returncode != 0 and "put POSTGRES_PASSWORD in docker/.env" in missing.stderr


def kubernetes(name: str) -> dict:
    return yaml.safe_load((DOCKER / "kubernetes" / name).read_text())


def test_kubernetes_creates_the_study_once_then_runs_an_indexed_job_of_gpu_workers():
    create, workers = kubernetes("create-study-job.yaml"), kubernetes("workers-job.yaml")
    for job in (create, workers):
        assert (job["apiVersion"], job["kind"]) == ("batch/v1", "Job")
        pod = job["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["env"] == [
            {"name": "GAPSEARCH_STORAGE", "valueFrom": {"secretKeyRef": {"name": "gapsearch-storage", "key": "url"}}}
        ]
        mount = container["volumeMounts"][0]["mountPath"]
        context = parse_cli(container["args"])
        assert str(context.params["study_file"]).startswith(mount + "/")
        assert pod["volumes"][0]["configMap"]["name"] == "gapsearch-study"
    assert kubernetes("create-study-job.yaml")["spec"]["template"]["spec"]["containers"][0]["args"][0] == "create"
    spec = workers["spec"]
    assert spec["completionMode"] == "Indexed" and spec["completions"] == spec["parallelism"] >= 2
    pod = spec["template"]["spec"]
    assert pod["containers"][0]["args"][0] == "worker"
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert pod["terminationGracePeriodSeconds"] >= 10
