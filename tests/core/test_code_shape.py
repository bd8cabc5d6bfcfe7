"""The shape the code keeps (issue 12): no function in app/ longer than a screen."""

import ast
from pathlib import Path

import app

MAX_FUNCTION_LINES = 80
APP = Path(app.__file__).parent


def _long_functions() -> list[str]:
    found = []
    for path in sorted(APP.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    found.append(f"{path.relative_to(APP.parent)}:{node.lineno} {node.name}")
    return found


def test_no_function_in_the_app_is_longer_than_80_lines() -> None:
    assert _long_functions() == []
