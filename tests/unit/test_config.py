"""Configuration: defaults, path resolution from the file's folder, clear errors, env secrets."""

from pathlib import Path

import pytest

from sendlib.core.config import DEFAULT_CONFIG, load_config
from sendlib.core.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def test_default_config_resolves_paths_from_its_own_folder(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # the current directory must not matter
    cfg = load_config()
    assert cfg.path == DEFAULT_CONFIG
    assert cfg.data_dir == REPO / "data" / "raw"
    assert cfg.output_dir == REPO / "outputs"
    assert cfg.table_source("ehcp_plans").path == REPO / "data" / "raw" / "ehcp_plans.csv"
    assert cfg.suppression_threshold == 5 and cfg.min_denominator == 10
    assert cfg.kpi_targets["K1"].better == "up"
    # the synthetic county has no DfE code of its own; Oxfordshire (931) is its comparator
    assert cfg.dfe_code is None and cfg.comparator_code == "931"
    assert cfg.benchmark_code == "931" and cfg.benchmarks_comparator


def test_an_old_config_with_only_dfe_code_means_the_authority_own_code(tmp_path):
    cfg = load_config(_write(tmp_path, "authority: {name: X, dfe_code: '123'}\n"))
    assert cfg.dfe_code == "123" and cfg.comparator_code is None
    assert cfg.benchmark_code == "123" and not cfg.benchmarks_comparator
    both = load_config(_write(tmp_path, "authority: {name: X, dfe_code: '123', comparator_code: 931}\n"))
    assert both.benchmark_code == "931" and both.benchmarks_comparator and both.dfe_code == "123"


def _write(tmp_path, text):
    p = tmp_path / "sub" / "my.yaml"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def test_relative_paths_resolve_from_the_given_file(tmp_path):
    p = _write(
        tmp_path,
        "authority: {name: X, dfe_code: '123'}\npaths: {data_dir: ../d, output_dir: out}\n"
        "tables:\n  placements: {format: parquet, path: p.parquet}\n",
    )
    cfg = load_config(p)
    assert cfg.data_dir == tmp_path / "d"
    assert cfg.output_dir == tmp_path / "sub" / "out"
    src = cfg.table_source("placements")
    assert src.format == "parquet" and src.path == tmp_path / "d" / "p.parquet"
    moved = cfg.with_data_dir(tmp_path / "other")
    assert moved.table_source("placements").path == tmp_path / "other" / "p.parquet"
    assert moved.table_source("population").path == tmp_path / "other" / "population.csv"


@pytest.mark.parametrize(
    "text, key",
    [
        ("authority: {name: X, dfe_code: '1'}\nbogus: 1\n", "bogus"),
        ("authority: {name: X}\n", "authority: Value error, set dfe_code"),
        ("authority: {name: X, dfe_code: ''}\n", "or, for data that are no real authority's, comparator_code"),
        ("authority: {name: X, dfe_code: '1'}\ntables: {nosuch: {}}\n", "nosuch"),
        ("authority: {name: X, dfe_code: '1'}\nkpi_targets: {K1: {target: 60, better: sideways}}\n", "K1.better"),
        ("authority: {name: X, dfe_code: '1'}\nkpi_targets: {K1: {target: sixty, better: up}}\n", "K1.target"),
        ("authority: {name: X, dfe_code: '1'}\npaths: {data_dirr: x}\n", "data_dirr"),
        ("authority: [\n", "not valid YAML"),
    ],
)
def test_bad_config_names_the_key(tmp_path, text, key):
    with pytest.raises(ConfigError) as err:
        load_config(_write(tmp_path, text))
    assert key in str(err.value)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")


def test_database_url_comes_from_the_environment(tmp_path, monkeypatch):
    p = _write(
        tmp_path,
        "authority: {name: X, dfe_code: '1'}\n"
        "tables:\n  population: {format: sql, url_env: MY_DB_URL, query: select 1}\n",
    )
    cfg = load_config(p)
    monkeypatch.delenv("MY_DB_URL", raising=False)
    with pytest.raises(ConfigError, match="MY_DB_URL"):
        cfg.database_url("population")
    monkeypatch.setenv("MY_DB_URL", "sqlite:///x.db")
    assert cfg.database_url("population") == "sqlite:///x.db"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("report: {horizon_yearz: 5}\n", "report.horizon_yearz: unknown key"),
        ("report: {horizon_years: 0}\n", "report.horizon_years: Input should be greater than or equal to 1"),
        ("report: {jobs: many}\n", "report.jobs: Input should be a valid integer"),
        ("report: {small_count_check: ignore}\n", "report.small_count_check: Input should be 'fail' or 'warn'"),
        ("suppression: {threshold: 0}\n", "suppression.threshold: Input should be greater than or equal to 1"),
        ("tables: {population: {format: sql, url_env: X}}\n", "tables.population: Value error, a sql source needs"),
    ],
)
def test_errors_name_the_file_the_key_and_the_rule(tmp_path, text, expected):
    p = _write(tmp_path, "authority: {name: X, dfe_code: '1'}\n" + text)
    with pytest.raises(ConfigError) as err:
        load_config(p)
    assert str(err.value).startswith(f"config file {p}: ")
    assert expected in str(err.value)


def test_every_problem_is_reported_at_once(tmp_path):
    p = _write(tmp_path, "authority: {name: X}\nreport: {horizon_years: -1, jobz: 2}\n")
    message = str(pytest.raises(ConfigError, load_config, p).value)
    assert "authority: Value error, set dfe_code" in message
    assert "report.horizon_years" in message and "report.jobz: unknown key" in message


def test_report_defaults_are_declared_once_in_the_model(tmp_path):
    cfg = load_config(_write(tmp_path, "authority: {name: X, dfe_code: 931}\nreport:\n"))
    assert cfg.dfe_code == "931"  # a number in YAML is still a code
    assert (cfg.report.horizon_years, cfg.report.reuse, cfg.report.jobs) == (5, True, None)
    assert cfg.report.small_count_check == "fail" and cfg.report.cell_timeout_seconds is None


def test_scenario_files_resolve_from_the_config_then_the_scenarios_folder(tmp_path, monkeypatch):
    from sendlib.core.errors import UsageError

    p = _write(
        tmp_path,
        "authority: {name: X, dfe_code: '1'}\npaths: {scenarios_dir: sc}\nreport: {forecast_scenario: sc/f.yaml}\n",
    )
    (tmp_path / "sub" / "sc").mkdir()
    (tmp_path / "sub" / "sc" / "f.yaml").write_text("name: f\n")
    (tmp_path / "sub" / "sc" / "other.yaml").write_text("name: o\n")
    cfg = load_config(p)
    assert cfg.scenario_file("", "forecast") == tmp_path / "sub" / "sc" / "f.yaml"
    assert cfg.scenario_file("other.yaml", "sufficiency") == tmp_path / "sub" / "sc" / "other.yaml"
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError, match="dsg scenario file not found"):
        cfg.scenario_file("", "dsg")


def test_relative_paths_are_shown_from_the_config_folder_never_absolute(tmp_path):
    cfg = load_config(_write(tmp_path / "project" / "config", "authority: {name: X, dfe_code: '1'}\n"))
    folder = cfg.path.parent  # <tmp>/project/config/sub
    assert cfg.relative(folder / "scenarios" / "dsg.yaml") == "scenarios/dsg.yaml"
    assert cfg.relative("scenarios/dsg.yaml") == "scenarios/dsg.yaml"
    assert cfg.relative(folder.parent.parent / "data" / "raw") == "../../data/raw"
    far = tmp_path / "elsewhere" / "deep" / "x.yaml"
    assert cfg.relative(far) == "x.yaml"  # three folders up: the name alone, no machine path
    assert str(tmp_path) not in cfg.relative(far) and "\\" not in cfg.relative(folder / "a" / "b.yaml")
