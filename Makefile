# The two commands: `make run` and `make test`. Each creates .venv if it is missing and installs the project.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-unity install bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# torch is pinned and installed first: here 2.13.0 resolves to the local CPU build (an unpinned torch pulls CUDA).
$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[dev,dali,export]"
	touch $(STAMP)

install: $(STAMP)

# The main job: a server with the default world and a scripted NPC/player timeline client over the bridge.
run: $(STAMP)
	@mkdir -p out && rm -f out/.serve-endpoint
	@$(VENV)/bin/gf serve --model default --bind "tcp://127.0.0.1:*" --ready-file out/.serve-endpoint & \
	server=$$!; trap "kill $$server 2>/dev/null" EXIT; \
	for i in $$(seq 300); do [ -s out/.serve-endpoint ] && break; sleep 0.1; done; \
	$(VENV)/bin/gf play --connect "$$(cat out/.serve-endpoint)" --timeline examples/npc_timeline.json \
		--chunks 48 --seed 0 --scale 4 --out out/demo.mp4

# The pytest suite includes the Unity client's C# tests (tests/test_unity_client.py) when mcs and mono exist.
test: $(STAMP)
	$(PY) -m pytest

# The Unity client's C# core and its tests, compiled with mcs and run with mono against a live `gf serve`.
test-unity: $(STAMP)
	GF=$(VENV)/bin/gf bash "unity_client/Tests~/run_tests.sh"

bench: $(STAMP)
	$(VENV)/bin/gf bench speed

clean:
	rm -rf $(VENV) out
