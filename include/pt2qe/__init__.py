"""PT2QE pricing pipeline: the domain package (testable without Airflow)."""

__version__ = "0.1.0"
