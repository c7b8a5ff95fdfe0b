# The two commands: `make run` and `make test`. Each creates .venv if it is missing and installs the project.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test install bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# torch is pinned and installed first: here 2.13.0 resolves to the local CPU build (an unpinned torch pulls CUDA).
$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/gf generate --model default --policy grounded --chunks 48 --seed 0 --scale 4 \
		--events examples/events.json --out out/demo.mp4

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(VENV)/bin/gf bench speed

clean:
	rm -rf $(VENV) out
