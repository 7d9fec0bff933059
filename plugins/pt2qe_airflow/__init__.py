"""Airflow glue of PT2QE: Cosmos task groups, the run-variable interceptor, the progress
listener. Domain code lives in the `pt2qe` package (include/)."""
