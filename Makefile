# pmipview — two commands do everything on a fresh machine:
#   make demo   create the environment, install, list and correlate a bundled sample
#   make test   create the environment, install (tshark too, as root), ruff + pytest
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   ?= samples/tour.pcap

.PHONY: demo test lint venv tshark bench samples clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# tshark is the independent oracle of the cross-check tests; install it when we can.
tshark:
	@if ! command -v tshark >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing tshark (apt-get)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tshark >/dev/null; \
	  else echo "tshark missing and not root: tshark tests will be skipped"; fi; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .

test: $(STAMP) tshark lint
	$(BIN)/python -m pytest

demo: $(STAMP)
	@echo "== pmipview dissect $(DEMO): the signaling frames =="
	$(BIN)/pmipview dissect $(DEMO)
	@echo
	@echo "== pmipview timeline $(DEMO): per mobile node =="
	$(BIN)/pmipview timeline $(DEMO)

# regenerate samples/*.pcapng from samples/scenarios/*.toml, samples/README.md, tour.pcap
samples: $(STAMP)
	$(BIN)/python samples/build.py
	$(BIN)/python samples/make_tour.py

bench: $(STAMP)
	$(BIN)/python bench/decode_rate.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
