"""Each rule of docs/pages/architecture.md that is not about imports, checked on the package's syntax trees.

``tests/test_imports.py`` checks the layers and import cycles; this module checks where records, other
libraries' private names and the choice of a best trial live. None of the rules has an exception list:
a module that needs what a rule reserves calls the module that owns it.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gapsearch"

#: The modules that read and write what a trial or a study stores (rule: records).
RECORD_MODULES = ("records.py", "trial_attrs.py", "study_attrs.py", "optuna_compat.py")
#: How Optuna reads and writes stored attributes: a trial's or a study's, user or system, through the
#: trial, the study or the storage.
ATTRIBUTE_ACCESS = frozenset(
    {
        "user_attrs",
        "system_attrs",
        "set_user_attr",
        "set_system_attr",
        *(
            f"{verb}_{owner}_{kind}_{'attr' if verb == 'set' else 'attrs'}"
            for verb in ("get", "set")
            for owner in ("trial", "study")
            for kind in ("user", "system")
        ),
    }
)

#: The one module that holds other libraries' private names (rule: other projects' internals).
COMPAT_MODULES = ("optuna_compat.py",)

#: The one module that chooses a trial (rule: selection), and Optuna's study properties that choose one.
SELECTION_MODULE = "search/selection.py"
CHOOSING = frozenset({"best_trial", "best_trials", "best_value", "best_params"})


def modules(package: Path = PACKAGE) -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(package.rglob("*.py")):
        yield path.relative_to(package).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def attribute_access(tree: ast.Module) -> list[str]:
    """Where ``tree`` reads or writes stored attributes: ``line: name``."""
    return [
        f"{node.lineno}: {node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in ATTRIBUTE_ACCESS
    ]


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def defined_names(trees: list[ast.Module]) -> set[str]:
    """Every name gapsearch defines itself: functions, classes, arguments, assigned names and attributes."""
    names: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.alias) and node.asname:
                names.add(node.asname)
    return names


def _is_library(module: str) -> bool:
    """Whether ``module`` is another library's: neither gapsearch's nor Python's own (whose documented API
    has underscored names: ``os._exit``, the ``_csv`` types of the ``csv`` module)."""
    top = module.split(".")[0]
    return top != "gapsearch" and top not in sys.stdlib_module_names


def foreign_private_names(tree: ast.Module, own: set[str]) -> list[str]:
    """Where ``tree`` uses another library's private name: an import from a private module or of a private
    name, and an attribute (``x._name``, ``getattr(x, "_name")``) that gapsearch does not define itself,
    on anything but a module of Python's standard library."""
    stdlib = {
        (alias.asname or alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if not _is_library(alias.name) and not alias.name.startswith("gapsearch")
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_library(alias.name) and any(map(_is_private, alias.name.split("."))):
                    found.append(f"{node.lineno}: import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and _is_library(node.module or ""):
            module = node.module or ""
            names = [alias.name for alias in node.names]
            if any(map(_is_private, module.split("."))) or any(map(_is_private, names)):
                found.append(f"{node.lineno}: from {module} import {', '.join(names)}")
        elif isinstance(node, ast.Attribute) and _is_private(node.attr) and node.attr not in own:
            if isinstance(node.value, ast.Name) and node.value.id in stdlib:
                continue
            found.append(f"{node.lineno}: .{node.attr}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in {"getattr", "hasattr", "setattr", "delattr"}
            and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and _is_private(node.args[1].value)
            and node.args[1].value not in own
        ):
            found.append(f"{node.lineno}: {node.func.id}(..., {node.args[1].value!r})")
    return found


_STUDY_ANNOTATION = re.compile(r"\boptuna\.(study\.)?Study\b")


def _opens_a_study(call: ast.Call) -> bool:
    return re.search(r"(create|load)_study$", ast.unparse(call.func)) is not None


def choices_of_a_best_trial(tree: ast.Module) -> list[str]:
    """Where ``tree`` asks an Optuna study for its best trial (``best_trial``, ``best_trials``, ``best_value``,
    ``best_params``). A study is a name or attribute called ``study`` or ``..._study``, ``optuna`` (the API's
    wrapper holds its study there), a name annotated ``optuna.Study``, or one assigned from ``create_study``
    or ``load_study``; gapsearch's own records may have fields of the same names."""
    studies: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and node.annotation is not None:
            annotated = {node.arg: node.annotation}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            annotated = {node.target.id: node.annotation}
        else:
            annotated = {}
        studies.update(
            name for name, annotation in annotated.items() if _STUDY_ANNOTATION.search(ast.unparse(annotation))
        )
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and _opens_a_study(node.value):
            studies.update(target.id for target in node.targets if isinstance(target, ast.Name))

    def is_study(receiver: ast.expr) -> bool:
        name = receiver.id if isinstance(receiver, ast.Name) else getattr(receiver, "attr", None)
        if isinstance(receiver, ast.Call):
            return _opens_a_study(receiver)
        return name is not None and (name in studies or name == "optuna" or re.search(r"(^|_)study$", name) is not None)

    return [
        f"{node.lineno}: {ast.unparse(node)}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in CHOOSING and is_study(node.value)
    ]


# The checks find what they look for.


def _tree(source: str) -> ast.Module:
    return ast.parse(source)


def test_the_record_check_sees_reads_and_writes_through_trials_studies_and_storages():
    source = (
        "def f(trial, study, storage):\n"
        "    trial.user_attrs.get('pid')\n"
        "    study.set_user_attr('metric', 1)\n"
        "    storage.get_study_system_attrs(1)\n"
        "    storage.set_trial_system_attr(1, 'k', 2)\n"
        "    trial.system_attrs['failed_trial']\n"
    )
    assert sorted(attribute_access(_tree(source))) == [
        "2: user_attrs",
        "3: set_user_attr",
        "4: get_study_system_attrs",
        "5: set_trial_system_attr",
        "6: system_attrs",
    ]


def test_the_private_name_check_sees_imports_attributes_and_getattr_but_not_gapsearchs_own_names():
    source = (
        "from optuna.storages._heartbeat import BaseHeartbeat\n"
        "from optuna.study import _constrained_optimization\n"
        "import keras.src._tf_keras\n"
        "import os, _csv\n"
        "from gapsearch.trial_attrs import _Stored\n"
        "class Own:\n"
        "    def __init__(self):\n"
        "        self._mine = 1\n"
        "    def f(self, storage, study):\n"
        "        return self._mine, storage._backend, getattr(storage, '_backend'), study.__class__, os._exit\n"
    )
    tree = _tree(source)
    found = foreign_private_names(tree, defined_names([tree]))
    assert sorted(found) == sorted(
        [
            "1: from optuna.storages._heartbeat import BaseHeartbeat",
            "2: from optuna.study import _constrained_optimization",
            "3: import keras.src._tf_keras",
            "10: ._backend",
            "10: getattr(..., '_backend')",
        ]
    )


def test_the_selection_check_sees_a_study_by_name_annotation_and_origin_but_not_gapsearchs_records():
    source = (
        "import optuna\n"
        "def f(study, source: optuna.Study, outcome, trial, self):\n"
        "    study.best_trial, source.best_trials, trial.study.best_value, self.optuna.best_params\n"
        "    loaded = optuna.load_study(study_name='s', storage='x')\n"
        "    loaded.best_trial, optuna.load_study(study_name='s').best_value\n"
        "    outcome.best_trial, trial.best_value\n"
    )
    assert sorted(choices_of_a_best_trial(_tree(source))) == [
        "3: self.optuna.best_params",
        "3: source.best_trials",
        "3: study.best_trial",
        "3: trial.study.best_value",
        "5: loaded.best_trial",
        "5: optuna.load_study(study_name='s').best_value",
    ]


# The rules.


def test_no_trial_or_study_attribute_is_read_or_written_outside_the_record_modules():
    found = {
        name: access for name, tree in modules() if name not in RECORD_MODULES and (access := attribute_access(tree))
    }
    assert found == {}


def test_no_private_name_of_another_library_is_used_outside_the_compat_module():
    trees = dict(modules())
    own = defined_names(list(trees.values()))
    found = {
        name: names
        for name, tree in trees.items()
        if name not in COMPAT_MODULES and (names := foreign_private_names(tree, own))
    }
    assert found == {}


def test_no_best_trial_is_chosen_outside_the_selection_module():
    found = {
        name: choices
        for name, tree in modules()
        if name != SELECTION_MODULE and (choices := choices_of_a_best_trial(tree))
    }
    assert found == {}


@pytest.mark.parametrize("module", [*RECORD_MODULES, *COMPAT_MODULES, SELECTION_MODULE])
def test_every_module_a_rule_names_exists(module):
    assert (PACKAGE / module).is_file(), module


def test_every_test_the_architecture_page_names_exists():
    """Each rule of docs/pages/architecture.md names the test that checks it; a renamed test fails here."""
    page = (PACKAGE.parent / "docs" / "pages" / "architecture.md").read_text(encoding="utf-8")
    named, module = [], None
    for path, name in re.findall(r"`(?:(tests/[\w/]+\.py))?(?:::(\w+))?`", page):
        module = path or module
        if path or name:
            named.append((module, name))
    assert len(named) >= 10
    for path, name in named:
        assert path is not None and (PACKAGE.parent / path).is_file(), path
        source = (PACKAGE.parent / path).read_text(encoding="utf-8")
        assert not name or re.search(rf"^def {name}\(", source, re.MULTILINE), f"{path}::{name}"
