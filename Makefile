# pmipview — two commands do everything on a fresh machine:
#   make demo   create the environment, install, list and correlate a bundled sample,
#               write its ladder (SVG) and HTML report, end with its ladder in the terminal
#   make test   create the environment, install (tshark too, as root), ruff + pytest
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   ?= samples/tour.pcap
DEMO_OUT ?= demo-out

.PHONY: demo test lint venv tshark render-tools net-tools bench samples clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# setup.py builds the optional compiled hot path (Cython, when a C compiler is there)
HOT := setup.py dissectors/speedups.py $(wildcard dissectors/*.pyx dissectors/*.pxd pmipview/sources/*.pyx pmipview/wire/*.pyx) \
       $(wildcard dissectors/*.py) pmipview/packets.py pmipview/signals.py \
       $(wildcard pmipview/correlate/*.py) pmipview/render/timeline_json.py

$(STAMP): $(BIN)/python pyproject.toml $(HOT)
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

# plantuml, mscgen, chromium (apt, as root) and the Mermaid CLI (npm, under tools/) render
# the ladder's text outputs in the tests; quick when already installed.
render-tools:
	@sh tools/install-render-tools.sh

# udhcpc (the MN), dnsmasq (the relay-mode DHCP server), dumpcap, mergecap and tcpreplay for the
# tests/netns lab; apt as root, quick when installed.  Without them those tests skip.
net-tools:
	@missing=""; \
	for t in udhcpc:udhcpc dnsmasq:dnsmasq-base dumpcap:wireshark-common mergecap:wireshark-common ip:iproute2 tcpreplay:tcpreplay; do \
	  command -v $${t%%:*} >/dev/null 2>&1 || missing="$$missing $${t#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing$$missing (apt-get)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing$$missing and not root: tests/netns will be skipped"; fi; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: $(STAMP) tshark render-tools net-tools lint
	$(BIN)/python -m pytest

demo: $(STAMP)
	@echo "== pmipview dissect $(DEMO): the signaling frames =="
	$(BIN)/pmipview dissect $(DEMO)
	@echo
	@echo "== pmipview timeline $(DEMO): per mobile node =="
	$(BIN)/pmipview timeline $(DEMO)
	@echo
	@echo "== the ladder as an image, and the HTML report (open it in a browser) =="
	@mkdir -p $(DEMO_OUT)
	$(BIN)/pmipview ladder $(DEMO) --mn mn1@example.net -o $(DEMO_OUT)/ladder-mn1.svg
	$(BIN)/pmipview report $(DEMO) -o $(DEMO_OUT)/report.html
	@echo
	@echo "== pmipview ladder $(DEMO): the first mobile node =="
	$(BIN)/pmipview ladder $(DEMO) --mn mn1@example.net --no-pager

# regenerate samples/*.pcapng from samples/scenarios/*.toml, samples/README.md, tour.pcap
samples: $(STAMP)
	$(BIN)/python samples/build.py
	$(BIN)/python samples/make_tour.py

bench: $(STAMP)
	$(BIN)/python bench/decode_rate.py
	$(BIN)/python bench/load_bench.py --quick --out bench/out/load_bench.json
	$(BIN)/python bench/shapes_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis $(DEMO_OUT)
