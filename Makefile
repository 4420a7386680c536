# The course's commands. `make book` builds the rendered book, `make test` runs every test
# (and builds the book first, so a chapter that breaks fails the tests), `make check` the fast
# part. They create the virtual environment .venv from the pinned lock file when it is missing
# or out of date.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-from-lock
# use the virtual environment's Jupyter kernel even if the user has one of their own
export JUPYTER_PREFER_ENV_PATH := 1
export PYTHONHASHSEED := 0
# one BLAS/OpenMP thread: the course's models are small, a second thread gains little and
# spins badly when the cores are shared, and the book's numbers stay the same on any machine
export OMP_NUM_THREADS := 1

.PHONY: help venv book translations test check system-packages assignments check-assignments grade lock clean

help:
	@echo "make book               build the book: English into _build/html, Korean into _build/html/ko"
	@echo "make translations       after editing a page: update locales/ko/*.po (new messages empty, changed ones fuzzy)"
	@echo "make test               install the Debian packages the tests need (as root), build the book,"
	@echo "                        then run every test"
	@echo "make check              the fast tests: models, data, assignments in sync (no sandbox, no book)"
	@echo "make system-packages    as root: install bubblewrap, Chromium and its driver, a Hangul font"
	@echo "make venv               create .venv from requirements.lock (every target does when needed)"
	@echo "make assignments        regenerate assignments/ from solutions/"
	@echo "make check-assignments  fail if assignments/ is out of date with solutions/"
	@echo "make grade              autograde submitted/, export grades.csv, write feedback/ (ASSIGNMENTS=... to choose)"
	@echo "make lock               re-pin requirements.lock and environment.yml from pyproject.toml"
	@echo "make clean              remove the built book and the grading output"

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

book: $(STAMP)
	$(BIN)/python -m course_tools book

# The Korean edition's messages: extracted from the pages (with the English build's cached outputs)
# and merged into locales/ko/LC_MESSAGES/; translate what is empty or fuzzy, then `make book`.
translations: $(STAMP)
	$(BIN)/python -m course_tools translations

# Without the Debian packages the grading and browser tests would not run: as root this installs
# them; as anyone else it stops here, before the book and pytest, printing the command to run.
system-packages:
	@tools/system-packages.sh install

test: system-packages
	@$(MAKE) --no-print-directory book
	$(BIN)/python -m pytest -n 2

# what `make test` runs, less the tests marked book, grading or slow (tests/conftest.py)
check: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m "not book and not grading and not slow"

assignments: $(STAMP)
	$(BIN)/python -m course_tools release

check-assignments: $(STAMP)
	$(BIN)/python -m course_tools check

grade: $(STAMP)
	$(BIN)/python -m course_tools grade $(ASSIGNMENTS)

# Re-resolve every dependency from pyproject.toml in a scratch environment and pin it.
# torch is pinned to 2.13.0 (the CPU wheel on the course machines; CUDA builds elsewhere).
lock:
	rm -rf /tmp/course-lock-venv && $(PYTHON) -m venv /tmp/course-lock-venv
	/tmp/course-lock-venv/bin/python -m pip install --quiet --upgrade pip
	/tmp/course-lock-venv/bin/python -m pip install --quiet "torch==2.13.0" -e ".[all]"
	/tmp/course-lock-venv/bin/python -m pip freeze --exclude-editable | sed -e 's/+cpu$$//' > requirements.lock
	rm -rf /tmp/course-lock-venv
	$(PYTHON) -c "import sys; sys.path.insert(0, '.'); from course_tools import environment; environment.write('.')"

clean:
	rm -rf _build autograded feedback gradebook.db grades.csv grades grading_report.json grading_reports class_report .grading_state.json
