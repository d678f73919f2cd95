"""Airflow triggers the production version of the flowc pipeline `daily_weighting` on Argo.

The DAG submits the `prod` alias that `flowc build --channel prod` writes
(`daily-weighting-prod`, see docs/releasing.md) through the Argo Server's REST API, so a
promotion or a rollback on the Argo side changes what Airflow runs without touching this file.
It waits for the workflow to finish and reads back the pipeline's outputs, which flowc exports
as the workflow's outputs (`status.outputs`, the entry template's outputs with `globalName`).

Connection settings come from Airflow Variables: `argo_server` (such as
`https://argo.example.com:2746`), `argo_namespace` and `argo_token` (a service account token
allowed to submit workflows). Checked by cli/tests/airflow.rs with Python's `ast`.
"""

from __future__ import annotations

import time

import pendulum
import requests
from airflow.decorators import dag, task
from airflow.models import Variable

# The alias of the prod channel: `<pipeline>-<channel>`, DNS-safe.
WORKFLOW_TEMPLATE = "daily-weighting-prod"
FINISHED = ("Succeeded", "Failed", "Error")


def _argo(path: str) -> tuple[str, dict[str, str]]:
    """The URL of an Argo Server API path in the configured namespace, and its headers."""
    server = Variable.get("argo_server").rstrip("/")
    namespace = Variable.get("argo_namespace", default_var="pipelines")
    headers = {"Authorization": f"Bearer {Variable.get('argo_token')}"}
    return f"{server}/api/v1/workflows/{namespace}{path}", headers


@dag(
    dag_id="daily_weighting",
    schedule="0 6 * * *",
    start_date=pendulum.datetime(2024, 6, 1, tz="Europe/Paris"),
    catchup=False,
    tags=["flowc", "argo"],
)
def daily_weighting():
    @task
    def submit(day: str) -> str:
        """Submits the prod alias for `day`; returns the workflow's name."""
        url, headers = _argo("/submit")
        body = {
            "resourceKind": "WorkflowTemplate",
            "resourceName": WORKFLOW_TEMPLATE,
            "submitOptions": {"parameters": [f"day={day}"]},
        }
        response = requests.post(url, json=body, headers=headers, timeout=30)
        response.raise_for_status()
        return response.json()["metadata"]["name"]

    @task
    def wait(name: str) -> dict:
        """Polls the workflow until it ends; fails the task unless it succeeded."""
        url, headers = _argo(f"/{name}")
        while True:
            response = requests.get(url, headers=headers, timeout=30)
            response.raise_for_status()
            status = response.json().get("status", {})
            if status.get("phase") in FINISHED:
                break
            time.sleep(30)
        if status.get("phase") != "Succeeded":
            raise RuntimeError(f"workflow {name} ended {status.get('phase')}: {status.get('message')}")
        return status

    @task
    def read_outputs(status: dict) -> dict:
        """The pipeline's outputs: where each artifact is stored, and each value."""
        outputs = status.get("outputs", {})
        artifacts = {a["name"]: a.get("s3", {}).get("key") for a in outputs.get("artifacts", [])}
        values = {p["name"]: p.get("value") for p in outputs.get("parameters", [])}
        return {"artifacts": artifacts, "values": values, "quality": artifacts.get("quality")}

    read_outputs(wait(submit(day="{{ ds }}")))


daily_weighting()
