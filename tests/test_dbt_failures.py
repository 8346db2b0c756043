"""A parameter seed with an invalid value fails the build with the seed, the line and the rule named."""

from __future__ import annotations

import json
import shutil

import pytest

from pipelines import cli
from pipelines.lake.connection import reader
from pipelines.quality import dbt_failures

SEED = "seeds/carbon/carbon_efficiency_thresholds.csv"


@pytest.fixture
def project_copy(lake, monkeypatch):
    """The dbt project copied beside the lake, so a test can break a seed without touching the repository's."""
    copy = lake.root / "dbt_project"
    shutil.copytree(lake.dbt_project_dir, copy, ignore=shutil.ignore_patterns("target", "logs"))
    shutil.copytree(lake.dbt_project_dir / "target", copy / "target",
                    ignore=shutil.ignore_patterns("dbt_models-*", "run", "compiled"))
    return copy


def build(project, *select):
    return cli.main(["dbt", "build", "--project-dir", str(project), "--select", *select, "--quiet"])


def test_a_threshold_out_of_order_names_the_seed_line_and_rule(project_copy, lake, capsys):
    seed = project_copy / SEED
    lines = seed.read_text(encoding="utf-8").splitlines()
    broken = next(i for i, line in enumerate(lines) if line.startswith("carbon_efficiency_grade,3,"))
    lines[broken] = lines[broken].replace(",1.2,", ",0.7,", 1)  # grade 3 now ends below grade 2 (0.8)
    seed.write_text("\n".join(lines) + "\n", encoding="utf-8")

    assert build(project_copy, "carbon_efficiency_thresholds") != 0
    err = capsys.readouterr().err
    assert "carbon_efficiency_thresholds__thresholds_ascending" in err
    assert f"{SEED} line {broken + 1}: measure=carbon_efficiency_grade, band_seq=3, upper_bound=0.7" in err

    run_results = json.loads((project_copy / "target" / "run_results.json").read_text(encoding="utf-8"))
    manifest = json.loads((project_copy / "target" / "manifest.json").read_text(encoding="utf-8"))
    with reader(lake) as con:
        found = dbt_failures.failures(run_results, manifest, project_copy, con)
    rules = {f.test for f in found}
    assert "carbon_efficiency_thresholds__thresholds_ascending" in rules
    assert all(f.datasets == ["seeds.carbon_efficiency_thresholds"] for f in found)


def test_a_valid_seed_builds_and_reports_nothing(project_copy, lake, capsys):
    assert build(project_copy, "carbon_efficiency_thresholds") == 0
    assert "the rule" not in capsys.readouterr().err


def test_a_query_with_line_comments_stays_one_working_line():
    one_line = dbt_failures.one_line("select 1 -- the rule\nfrom t -- where\n")
    assert one_line == "select 1 /* the rule */ from t /* where */"
