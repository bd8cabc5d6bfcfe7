"""The simulator keeps the app's shape: no function longer than 80 lines, and no import of app."""

import ast
from pathlib import Path

import csd_sim

PACKAGE = Path(csd_sim.__file__).parent


def test_no_function_in_the_simulator_is_longer_than_80_lines():
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                if node.end_lineno - node.lineno + 1 > 80:
                    long.append(f"{path.name}:{node.lineno} {node.name}")
    assert long == []


def test_the_simulator_never_imports_the_app():
    imported = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.split(".")[0])
    assert "app" not in imported
