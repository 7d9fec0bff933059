"""Registers the PT2QE Airflow glue: the progress listener (stage lines for the CLI)."""

from airflow.plugins_manager import AirflowPlugin

from pt2qe_airflow import pt2qe_progress


class Pt2qePlugin(AirflowPlugin):
    name = "pt2qe"
    listeners = [pt2qe_progress]
