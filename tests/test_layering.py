"""The architecture as a test: backends <- autograd <- nn, each importing only below it.

autograd reaches arrays only through the Backend interface; nn only through autograd.
"""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
ARRAY_LIBRARIES = {"numpy", "numba", "cupy", "cupyx", "llvmlite"}
FORBIDDEN = {
    "backends": {"autograd", "nn"},
    "autograd": ARRAY_LIBRARIES | {"nn"},
    "nn": ARRAY_LIBRARIES,
}


def imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_the_layers_below(package):
    crossings = []
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package}/ has no modules"
    for path in files:
        for module in imports(path):
            top = module.split(".")[0]
            if top in FORBIDDEN[package]:
                crossings.append(f"{path.relative_to(ROOT)} imports {module}")
            if package == "nn" and top == "backends" and module != "backends":
                crossings.append(f"{path.relative_to(ROOT)} imports backend internals {module}")
    assert crossings == []


def test_the_rule_catches_a_crossing(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import numpy as np\nfrom nn.layers import Linear\n")
    assert set(imports(bad)) == {"numpy", "nn.layers"}
