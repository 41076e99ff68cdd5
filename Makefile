# seq2acc — the two commands a new user needs:
#   make demo   # create .venv if missing, fetch the yeast genome, run the whole DVC pipeline
#   make test   # create .venv if missing, run the test suite
# On a machine with an NVIDIA GPU add DEVICE=gpu (make demo DEVICE=gpu): TensorFlow built with CUDA instead of
# tensorflow-cpu, the same release (requirements-gpu.lock). Switching DEVICE re-installs TensorFlow.
PYTHON ?= python3
VENV   ?= .venv
DEVICE ?= cpu
ifeq ($(filter $(DEVICE),cpu gpu),)
$(error DEVICE=$(DEVICE): use DEVICE=cpu (the default, tensorflow-cpu) or DEVICE=gpu (TensorFlow with CUDA, Linux x86-64))
endif
BIN     = $(VENV)/bin
# One stamp per device: a venv installed for the other device is not up to date.
STAMP   = $(VENV)/.seq2acc-installed-$(DEVICE)
# The distributions of the other TensorFlow build, removed first (both builds install the same `tensorflow` files).
GPU_PKGS = $(shell sed -e '/^\#/d' -e 's/\[.*//' -e 's/=.*//' requirements-gpu.lock)
OTHER_TF = $(if $(filter gpu,$(DEVICE)),tensorflow-cpu,$(GPU_PKGS))
# DVC stage commands call `python`: make it the venv's.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: demo test venv clean-venv test-deps

venv: $(STAMP)

$(STAMP): pyproject.toml requirements.lock requirements-gpu.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip uv
	rm -f $(VENV)/.seq2acc-installed*
	$(BIN)/uv pip uninstall -q --python $(BIN)/python $(OTHER_TF)
ifeq ($(DEVICE),gpu)
	{ grep -v '^tensorflow-cpu==' requirements.lock; grep -v '^#' requirements-gpu.lock; } > $(VENV)/requirements-gpu.txt
	$(BIN)/uv pip install -q --python $(BIN)/python -r $(VENV)/requirements-gpu.txt
else
	$(BIN)/uv pip install -q --python $(BIN)/python -r requirements.lock
endif
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/dvc repro
	$(BIN)/seq2acc report

test: $(STAMP) test-deps
	$(BIN)/python -m pytest -q tests

# System packages some tests use: Debian's chromium (headless check of the MLflow UI) and postgresql (MLflow
# PostgreSQL store). Installed with apt-get only when missing and apt-get is there (root or passwordless
# sudo); otherwise those tests skip and say why.
test-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing="$$missing chromium"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    SUDO=""; [ "$$(id -u)" = 0 ] || SUDO="sudo -n"; \
	    echo "make test-deps: apt-get install$$missing"; \
	    { $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq$$missing; } >/dev/null 2>&1 \
	      || echo "make test-deps: could not install$$missing; the tests that need it will skip"; \
	  else echo "make test-deps: no apt-get; tests needing$$missing will skip"; fi; \
	fi

clean-venv:
	rm -rf $(VENV)
