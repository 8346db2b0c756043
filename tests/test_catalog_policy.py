"""What people decided in catalog/ holds for every contract: owners exist, every column is classified."""

from pathlib import Path

import pytest
import yaml

from pipelines.contracts.model import all_contracts
from pipelines.settings import PROJECT_ROOT

CATALOG = PROJECT_ROOT / "catalog"
POLICY = yaml.safe_load((CATALOG / "classification_policy.yml").read_text(encoding="utf-8"))
TEAMS = yaml.safe_load((CATALOG / "owners.yml").read_text(encoding="utf-8"))["teams"]
CONTRACTS = list(all_contracts().values())


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.name)
def test_contract_owner_is_a_known_team(contract):
    assert contract.owner_team in TEAMS, f"{contract.path.name}: owner team {contract.owner_team!r} not in owners.yml"


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.name)
def test_every_column_is_classified_and_personal_information_is_protected(contract):
    levels = list(POLICY["security_levels"])
    for column in contract.columns:
        where = f"{Path(contract.path).name}: {column.name}"
        assert column.classification in levels, f"{where}: classification {column.classification!r}"
        assert column.description or column.source_name != column.name, f"{where}: no description"
        if column.personal_information:
            pi = POLICY["personal_information_classes"][column.personal_information]
            assert levels.index(column.classification) >= levels.index(pi["minimum_level"]), (
                f"{where}: {column.personal_information} needs at least {pi['minimum_level']}")


def test_dbt_models_name_a_known_owner():
    for path in (PROJECT_ROOT / "dbt_project" / "models").rglob("*.yml"):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models", []):
            owner = model.get("meta", {}).get("owner")
            assert owner in TEAMS, f"{path.name}: model {model['name']} has owner {owner!r}"
