"""The import contracts cover whole packages: a forbidden import in any module of portal,
leads or scoring, old or new, fails `lint-imports`.

Each case runs `lint-imports` on a scratch copy of the three packages and pyproject.toml with
one import (or one module) added, so the checkout itself is never touched.
"""

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("portal", "leads", "scoring")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


FORBIDDEN = {
    # A capability reaching up into the handoff.
    "scoring/effectiveness.py": "import leads.handoff.services",
    # Two pieces of wiring are siblings: the error pages never load the demo.
    "portal/error_handlers.py": "import portal.demo.services",
    # A module nobody has listed anywhere is in its package's layer from the start.
    "scoring/newcomer.py": "import leads.handoff",
    # The kernel never asks a capability.
    "leads/lifecycle.py": "import scoring.selectors",
    # The base never reaches the pages.
    "portal/accounts/newcomer.py": "import portal.dashboard.selectors",
}
# A module straight under a package split across layers must be given its layer.
UNPLACED = ("leads/newcomer.py", "portal/newcomer.py")


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory) -> dict[str, subprocess.CompletedProcess]:
    """Every case on its own copy, all linted at once (each run is mostly interpreter start)."""
    pristine = tmp_path_factory.mktemp("pristine")
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, pristine / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", pristine / "pyproject.toml")

    copies = {"untouched": pristine}
    for case, line in [*FORBIDDEN.items(), *((module, "") for module in UNPLACED)]:
        copy = tmp_path_factory.mktemp("copy")
        shutil.copytree(pristine, copy, dirs_exist_ok=True)
        path = copy / case
        before = path.read_text() if path.exists() else ""
        path.write_text(f"{before}\n{line}  # noqa\n" if line else '"""Not in any layer."""\n')
        copies[case] = copy
    # The copy is the working directory, which lint-imports puts first on sys.path, so it is
    # the copy's packages that are read, not the checkout's (installed in editable mode).
    running = {
        case: subprocess.Popen(  # noqa: S603
            [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
            cwd=copy,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for case, copy in copies.items()
    }
    verdicts = {}
    for case, process in running.items():
        output, _ = process.communicate(timeout=60)
        verdicts[case] = subprocess.CompletedProcess(process.args, process.returncode, output)
    return verdicts


def test_the_untouched_copy_keeps_every_contract(verdicts):
    result = verdicts["untouched"]
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("module", FORBIDDEN)
def test_a_forbidden_import_breaks_the_build(verdicts, module):
    result = verdicts[module]
    assert result.returncode != 0, result.stdout
    assert "BROKEN" in result.stdout


@pytest.mark.parametrize("module", UNPLACED)
def test_a_module_straight_under_a_split_package_must_be_given_a_layer(verdicts, module):
    result = verdicts[module]
    assert result.returncode != 0, result.stdout
    assert module.removesuffix(".py").replace("/", ".") in result.stdout


def test_every_layer_of_a_package_is_placed_in_the_layers_across_the_apps():
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    by_id = {contract["id"]: contract for contract in contracts["contracts"]}

    def modules(layers) -> set[str]:
        return {
            name.strip(" ()") for layer in layers for name in layer.replace("|", ":").split(":")
        }

    across = modules(by_id["layers"]["layers"])
    for contract in by_id.values():
        if not contract.get("exhaustive"):
            continue
        (container,) = contract["containers"]
        placed = {f"{container}.{tail}" for tail in modules(contract["layers"])}
        assert placed <= across, f"{contract['id']}: not across the apps: {placed - across}"
