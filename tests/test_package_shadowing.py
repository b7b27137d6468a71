"""A package of another distribution named `autograd`, `backends` or `nn` found before
pluggrad's must fail at import with a message naming it, where it is, and the fix. Each case
runs in a fresh interpreter with a directory of impostors first on sys.path."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _impostor(directory, package, version=None):
    """A package `package` in `directory`; with `version`, also the metadata of a
    distribution of the same name that provides it (as `pip install autograd` leaves)."""
    (directory / package).mkdir()
    (directory / package / "__init__.py").write_text("VALUE = 'not pluggrad'\n")
    if version:
        info = directory / f"{package}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n")
        (info / "top_level.txt").write_text(f"{package}\n")


def _import_fails(tmp_path, statement):
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    result = subprocess.run([sys.executable, "-c", statement], capture_output=True,
                            text=True, env=environment, cwd=tmp_path, timeout=120)
    assert result.returncode != 0, result.stdout
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("ImportError: "), result.stderr
    return last_line


def test_hips_autograd_before_pluggrad_names_the_distribution_and_the_fix(tmp_path):
    _impostor(tmp_path, "autograd", version="1.7.0")
    message = _import_fails(tmp_path, "import nn")
    assert "nn needs pluggrad's `autograd` package" in message
    assert "autograd 1.7.0" in message
    assert str(tmp_path / "autograd" / "__init__.py") in message
    assert "pip uninstall autograd" in message


def test_a_foreign_autograd_without_metadata_is_named_by_its_location(tmp_path):
    _impostor(tmp_path, "autograd")
    message = _import_fails(tmp_path, "import nn.playground")
    assert "another package named `autograd`" in message
    assert str(tmp_path / "autograd" / "__init__.py") in message
    assert "Fix:" in message


def test_a_foreign_backends_before_pluggrad_fails_autograd_by_name(tmp_path):
    _impostor(tmp_path, "backends")
    for statement in ("import autograd", "import nn"):
        message = _import_fails(tmp_path, statement)
        assert "autograd needs pluggrad's `backends` package" in message
        assert str(tmp_path / "backends" / "__init__.py") in message
        assert "Fix:" in message


def test_pluggrad_packages_carry_the_marker_the_check_reads():
    import autograd
    import backends
    import nn

    assert {autograd.__distribution__, backends.__distribution__, nn.__distribution__} == {
        "pluggrad"}


def test_the_check_itself_passes_for_pluggrad_and_names_any_other_module():
    import types

    import pytest

    from backends.family import foreign_package_message, require_pluggrad

    assert require_pluggrad("autograd", importer="nn").__distribution__ == "pluggrad"
    stranger = types.ModuleType("autograd")
    stranger.__file__ = "/somewhere/autograd/__init__.py"
    message = foreign_package_message("autograd", "nn", stranger)
    assert "/somewhere/autograd/__init__.py" in message
    with pytest.raises(ImportError, match="pluggrad's `json`"):
        require_pluggrad("json", importer="nn")
