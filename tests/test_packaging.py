"""The set-up files agree with each other: pyproject, environment.yml, constraints, Makefile."""

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def _pyproject_requirements():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        reqs.extend(extra)
    return {Requirement(r).name.lower(): str(Requirement(r).specifier) for r in reqs}


def _environment_pip_requirements():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_sections) == 1, "environment.yml must have exactly one pip: section"
    return {Requirement(r).name.lower(): str(Requirement(r).specifier) for r in pip_sections[0]}


def _constraints():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            req = Requirement(line)
            pins[req.name.lower()] = str(req.specifier)
    return pins


def test_environment_yml_lists_the_same_packages_as_pyproject():
    assert _environment_pip_requirements() == _pyproject_requirements()


def test_environment_yml_uses_python_311():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]


def test_every_dependency_is_pinned_in_constraints():
    pins = _constraints()
    for name in _pyproject_requirements():
        canonical = re.sub(r"[-_.]+", "-", name)
        matches = [v for k, v in pins.items() if re.sub(r"[-_.]+", "-", k) == canonical]
        assert matches, f"{name} is a dependency but constraints.txt does not pin it"
        assert matches[0].startswith("=="), f"{name} is not pinned exactly: {matches[0]}"


def test_torch_is_pinned_to_the_cpu_compatible_release():
    assert _constraints()["torch"] == "==2.13.0"
    assert _pyproject_requirements()["torch"] == "==2.13.0"


@pytest.fixture
def fake_course(tmp_path):
    """A copy of the set-up inputs with a stand-in virtualenv, to exercise the Makefile."""
    for name in ("Makefile", "pyproject.toml", "constraints.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "python").chmod(0o755)
    return tmp_path


def _make_is_up_to_date(course_dir):
    result = subprocess.run(
        ["make", "--question", "setup"], cwd=course_dir, capture_output=True, text=True
    )
    return result.returncode == 0


def test_setup_reruns_only_when_its_inputs_change(fake_course):
    stamp = fake_course / ".venv" / ".installed"
    assert not _make_is_up_to_date(fake_course), "set-up must run on a fresh checkout"
    stamp.touch()
    assert _make_is_up_to_date(fake_course), "a second run must skip the install"
    for name in ("pyproject.toml", "constraints.txt"):
        later = stamp.stat().st_mtime + 10
        os.utime(fake_course / name, (later, later))
        assert not _make_is_up_to_date(fake_course), f"changing {name} must re-run the install"
        stamp.touch()
        os.utime(stamp, (later + 1, later + 1))
        assert _make_is_up_to_date(fake_course)


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme
    assert re.search(r"^make test$", ci, re.MULTILINE), ".ci/run must run `make test`"


STUDENT_PACKAGES = {"numpy", "matplotlib", "torch", "tqdm", "jupyterlab"}
# import name -> the student package that provides it (IPython comes with JupyterLab)
PROVIDED_BY = {"IPython": "jupyterlab", "mpl_toolkits": "matplotlib"}


def _student_requirements():
    lines = (ROOT / "requirements-student.txt").read_text().splitlines()
    pip = {
        Requirement(r).name.lower(): str(Requirement(r).specifier)
        for r in (line.strip() for line in lines)
        if r and not r.startswith("#")
    }
    env = yaml.safe_load((ROOT / "environment-student.yml").read_text())
    sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    conda = {Requirement(r).name.lower(): str(Requirement(r).specifier) for r in sections[0]}
    return pip, conda


def test_the_student_environment_lists_exactly_what_students_need():
    pip, conda = _student_requirements()
    assert pip == conda
    assert set(pip) == STUDENT_PACKAGES
    course = _pyproject_requirements()
    assert {name: course[name] for name in pip} == pip, "versions differ from pyproject.toml"


def _imported_modules(code):
    import ast

    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_every_release_import_is_in_the_student_environment():
    import sys

    import nbformat
    from IPython.core.inputtransformer2 import TransformerManager

    imported = set()
    for path in (ROOT / "release").rglob("*"):
        if path.suffix == ".py":
            imported |= _imported_modules(path.read_text())
        elif path.suffix == ".ipynb":
            for cell in nbformat.read(path, as_version=4).cells:
                if cell.cell_type == "code":
                    imported |= _imported_modules(TransformerManager().transform_cell(cell.source))
    assert {"numpy", "torch", "matplotlib", "course_helpers"} <= imported
    third_party = imported - set(sys.stdlib_module_names) - {"course_helpers"}
    unlisted = {m for m in third_party if PROVIDED_BY.get(m, m) not in STUDENT_PACKAGES}
    assert not unlisted, f"release code imports {unlisted}, which students do not install"
