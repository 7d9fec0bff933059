"""Which dbt nodes each mode rebuilds (the Cosmos interceptor's rule)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

from pt2qe_airflow.pt2qe_cosmos import skip_reason  # noqa: E402


def test_full_mode_builds_everything_but_the_comparison_and_the_final_export():
    assert skip_reason("full", {"phase1"}) is None
    assert skip_reason("full", set()) is None
    assert skip_reason("full", {"final"}) is not None
    assert skip_reason("full", {"corrections_only"}) is not None


def test_corrections_mode_reuses_offers_and_recomputes_the_rest():
    assert skip_reason("corrections", {"phase1"}) == "corrections mode reuses the extracted offers"
    assert skip_reason("corrections", set()) is None
    assert skip_reason("corrections", {"corrections_only"}) is None
    assert skip_reason("corrections", {"final"}) is not None


def test_final_mode_builds_only_the_final_export():
    assert skip_reason("final", {"final"}) is None
    assert skip_reason("final", set()) == "final mode builds only the final export"
    assert skip_reason("final", {"phase1"}) is not None


def test_build_selection_says_what_skip_reason_says():
    from pt2qe_airflow.pt2qe_cosmos import build_selection

    assert build_selection("full") == ("path:models path:seeds", "tag:final tag:corrections_only")
    assert build_selection("corrections") == ("path:models path:seeds", "tag:final tag:phase1")
    assert build_selection("final") == ("tag:final", "tag:price_book_history")


def test_run_values_travel_as_environment_variables_and_the_configuration_as_vars():
    """What changes every run leaves --vars (a changed --vars makes dbt parse the whole
    project again); the macro pt2qe_run_var reads PT2QE_RUN_<NAME> when a node executes."""
    from pt2qe_airflow.pt2qe_cosmos import RUN_VALUES, run_env

    dbt_vars = {
        "as_of": "2025-11-17",
        "period_start": "2024-09-30",
        "period_end": "2025-09-28",
        "quarters": ["2025_Q02", "2025_Q03"],
        "run_id": "manual__2026-11-23T00:13:24+00:00",
        "run_date": "2026-11-23",
        "apply_corrections": True,
        "capping_basiques": 0.5,
        "marts_schema": "marts_next",
    }
    assert run_env(dbt_vars) == {
        "PT2QE_RUN_AS_OF": "2025-11-17",
        "PT2QE_RUN_PERIOD_START": "2024-09-30",
        "PT2QE_RUN_PERIOD_END": "2025-09-28",
        "PT2QE_RUN_QUARTERS": "2025_Q02,2025_Q03",
        "PT2QE_RUN_RUN_ID": "manual__2026-11-23T00:13:24+00:00",
        "PT2QE_RUN_RUN_DATE": "2026-11-23",
        "PT2QE_RUN_APPLY_CORRECTIONS": "true",
    }
    assert run_env({**dbt_vars, "apply_corrections": False})["PT2QE_RUN_APPLY_CORRECTIONS"] == "false"
    assert {k for k in dbt_vars if k not in RUN_VALUES} == {"capping_basiques", "marts_schema"}


def test_paths_outside_the_configured_folders_are_refused(tmp_path, monkeypatch):
    import pytest

    from pt2qe.paths import project_root
    from pt2qe.pipeline import RunError, resolve_path

    monkeypatch.setenv("PT2QE_ALLOWED_ROOTS", str(tmp_path / "team"))
    (tmp_path / "team").mkdir()
    assert resolve_path("inputs/capping_type_client.csv", "capping_file") == project_root() / "inputs" / "capping_type_client.csv"
    assert resolve_path(str(tmp_path / "team" / "caps.csv"), "capping_file") == tmp_path / "team" / "caps.csv"
    with pytest.raises(RunError, match=r"capping_file: '/etc/passwd' is outside the configured folders"):
        resolve_path("/etc/passwd", "capping_file")
    with pytest.raises(RunError, match="output_folder: '../../elsewhere' is outside"):
        resolve_path("../../elsewhere", "output_folder")
    # a link inside an allowed folder that points outside is refused too
    (tmp_path / "team" / "link").symlink_to("/etc")
    with pytest.raises(RunError, match="is outside the configured folders"):
        resolve_path(str(tmp_path / "team" / "link" / "passwd"), "capping_file")


def test_a_link_out_of_the_configured_folders_in_an_input_folder_is_refused_unread(
    tmp_path, monkeypatch
):
    import pytest
    from pt2qe.pipeline import RunError, resolve_path

    team, outside = tmp_path / "team", tmp_path / "outside"
    (team / "corrections").mkdir(parents=True)
    (team / "inputs" / "price_registry").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.csv").write_text("UNIVERS;TOP-SECRET\n", encoding="utf-8")
    monkeypatch.setenv("PT2QE_ALLOWED_ROOTS", str(team))
    (team / "corrections" / "capping_cubes_corrections.csv").symlink_to(outside / "secret.csv")
    (team / "inputs" / "price_registry" / "prices.csv").symlink_to(outside / "secret.csv")
    (team / "inputs" / "price_lists").symlink_to(outside)
    with pytest.raises(RunError) as err:
        resolve_path(str(team / "corrections"), "corrections_folder", check_links=True)
    assert str(err.value).startswith(
        f"corrections_folder: {team / 'corrections'} holds 1 link(s) to files outside the configured folders ("
    )
    assert f"): capping_cubes_corrections.csv -> {outside / 'secret.csv'}; nothing was read" in str(
        err.value
    )
    with pytest.raises(RunError) as err:
        resolve_path(str(team / "inputs"), "inputs_folder", check_links=True)
    assert "holds 2 link(s) to files outside the configured folders" in str(err.value)
    assert (
        f"price_lists -> {outside}; price_registry/prices.csv -> {outside / 'secret.csv'}; nothing"
        in str(err.value)
    )
    assert "SECRET" not in str(err.value)
    # links that stay in the configured folders are fine
    for link in (
        team / "corrections" / "capping_cubes_corrections.csv",
        team / "inputs" / "price_lists",
    ):
        link.unlink()
    (team / "corrections" / "capping_cubes_corrections.csv").symlink_to(
        team / "inputs" / "caps.csv"
    )
    (team / "inputs" / "price_registry" / "prices.csv").unlink()
    assert (
        resolve_path(str(team / "corrections"), "corrections_folder", check_links=True)
        == team / "corrections"
    )
    assert resolve_path(str(team / "inputs"), "inputs_folder", check_links=True) == team / "inputs"
