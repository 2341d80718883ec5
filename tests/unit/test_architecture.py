"""The layers, as the folders name them, and what each may import (read from the source, not run).

- the domain: only the standard library, eventsourcing and itself;
- the web (Flask): imported by nothing outside it but the `serve` command of the CLI;
- read models (projections) and exports: never the application's write side, the web, the CLI or
  the notifications that read them;
- the application, the adapters, the stores and the bootstrap: never the web, the CLI or Flask.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FLASK = ("flask", "flask_smorest", "flask_login", "flask_wtf", "werkzeug", "wtforms", "jinja2")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    found: set[str] = set()
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def modules(*folders: str) -> dict[str, set[str]]:
    return {module_name(path): imports(path) for folder in folders for path in sorted((ROOT / folder).rglob("*.py"))}


def under(name: str, *prefixes: str) -> bool:
    return any(name == prefix or name.startswith(f"{prefix}.") for prefix in prefixes)


def allowed_in_the_domain(name: str) -> bool:
    return (
        name == "__future__"
        or name.split(".")[0] in sys.stdlib_module_names
        or under(name, "eventsourcing", "inventory.domain")
    )


def test_the_domain_imports_only_the_standard_library_eventsourcing_and_itself() -> None:
    wrong = {
        module: sorted(name for name in names if not allowed_in_the_domain(name))
        for module, names in modules("inventory/domain").items()
    }
    assert {module: names for module, names in wrong.items() if names} == {}


def test_nothing_outside_the_web_imports_it_but_the_serve_command() -> None:
    found = {
        module: sorted(name for name in names if under(name, "inventory.web"))
        for module, names in modules("inventory", "exports").items()
        if not under(module, "inventory.web")
    }
    assert {module: names for module, names in found.items() if names} == {
        "inventory.cli": ["inventory.web", "inventory.web.create_app"]
    }


@pytest.mark.parametrize("layer", ["inventory/projections", "exports"])
def test_read_models_and_exports_never_import_the_write_side(layer: str) -> None:
    forbidden = ("inventory.application", "inventory.web", "inventory.cli", "inventory.notify", "inventory.bootstrap")
    found = {module: sorted(n for n in names if under(n, *forbidden)) for module, names in modules(layer).items()}
    assert {module: names for module, names in found.items() if names} == {}


@pytest.mark.parametrize(
    "layer", ["inventory/application", "inventory/adapters", "inventory/stores", "inventory/projections",
              "inventory/notify", "inventory/importing", "exports"],
)  # fmt: skip
def test_below_the_entry_points_nothing_imports_flask_the_web_or_the_cli(layer: str) -> None:
    found = {
        module: sorted(n for n in names if under(n, *FLASK, "inventory.web", "inventory.cli"))
        for module, names in modules(layer).items()
    }
    assert {module: names for module, names in found.items() if names} == {}


def test_no_module_is_left_loose_beside_the_layers() -> None:
    loose = sorted(path.name for path in (ROOT / "inventory").glob("*.py"))
    assert loose == ["__init__.py", "bootstrap.py"]
