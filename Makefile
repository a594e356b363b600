# Course commands. Every target sets up .venv first; set-up re-runs only when
# pyproject.toml or constraints.txt changed since the last install.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup test test-fast demo release lab lint bench mutants lock clean

ASSIGNMENTS := $(notdir $(wildcard source/[0-9][0-9]_*))

setup: $(STAMP)

# uv installs the pinned packages in seconds where pip takes minutes; pip does it where uv
# cannot be installed. uv does not read pip's configuration: the folder of local wheels
# that pip's PIP_FIND_LINKS names (the CPU build of torch on a CPU machine) is passed on.
FIND_LINKS := $(if $(PIP_FIND_LINKS),--find-links $(PIP_FIND_LINKS))

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed: run make PYTHON=python3.11 ...")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	if $(PY) -m pip install --quiet --constraint constraints.txt uv; then \
	  $(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PY) $(FIND_LINKS) --constraint constraints.txt --editable '.[test]'; \
	else \
	  $(PY) -m pip install --quiet --constraint constraints.txt --editable '.[test]'; \
	fi
	touch $(STAMP)

# One pytest-xdist worker per core; each module (or test class) runs on one worker, so
# a batch graded by a module- or class-scoped fixture is graded once.
test: setup
	$(PY) -m pytest -n auto --dist loadscope --no-loadscope-reorder

# The edit loop: every test but those marked slow (whole batches, notebooks run top to
# bottom, the hostile corpus).
test-fast: setup
	$(PY) -m pytest -n auto --dist loadscope --no-loadscope-reorder -m "not slow"

# Generate the releases, grade the bundled sample submissions, print the gradebook.
demo: setup
	$(PY) -m autograder.demo

# Regenerate release/ from source/ with nbgrader (commit the result).
release: setup
	$(PY) -m autograder.release $(ASSIGNMENTS)

# JupyterLab with formgrader, in the course root (LAB_ARGS: more options, e.g. --allow-root
# in a container that runs as root, --ip=0.0.0.0 --no-browser on a server).
lab: setup
	$(VENV)/bin/jupyter lab $(LAB_ARGS)

lint: setup
	$(VENV)/bin/ruff check .

# Grade every mutant of the reference answers; per task, how many the hidden checks kill.
mutants: setup
	$(PY) -m autograder.mutation --jobs 2

bench: setup
	$(PY) benchmarks/bench_optim.py
	$(PY) benchmarks/bench_grading.py

# Re-pin every installed package (run after changing dependencies in pyproject.toml).
lock: setup
	{ sed -n '1,3p' constraints.txt; $(PY) -m pip freeze --exclude-editable | grep -v '^torch==' ; echo 'torch==2.13.0'; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis demo gradebook.db
