# Argosy: one venv, pinned tools. DEVELOPMENT.md explains each target.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTHON := $(BIN)/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-all check gen gen-check lint types fmt bench bench-gate clean image lock

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/argosy demo --keep

test: $(STAMP)
	$(BIN)/pytest -q

gen: $(STAMP)
	rm -f argosy/api/v1/*_pb2*.py argosy/api/v1/*_pb2*.pyi
	$(PYTHON) -m grpc_tools.protoc -I proto \
		--python_out=. --pyi_out=. --grpc_python_out=. \
		--plugin=protoc-gen-mypy_grpc=$(BIN)/protoc-gen-mypy_grpc --mypy_grpc_out=. \
		proto/argosy/api/v1/*.proto

gen-check: gen
	@git diff --exit-code --stat -- argosy/api || (echo "generated code drifted: run 'make gen' and commit" >&2; exit 1)
	@test -z "$$(git status --porcelain -- argosy/api)" || (echo "untracked generated files: run 'make gen' and commit" >&2; git status --porcelain -- argosy/api; exit 1)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/buf lint
	$(BIN)/buf format --diff --exit-code
	$(BIN)/lint-imports

types: $(STAMP)
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/buf format -w

check: gen-check lint types test

bench: $(STAMP)
	$(PYTHON) -m bench.fleet --spokes 1000

# The image `argosy install` names (cli/manifests.py DEFAULT_IMAGE, the one constant).
# BUILDER: `docker` or `buildah` (chosen by what is here); BASE: the Dockerfile's base image.
IMAGE = $(shell $(PYTHON) -c 'from cli.manifests import DEFAULT_IMAGE; print(DEFAULT_IMAGE)')
BUILDER ?= $(shell command -v buildah >/dev/null && echo buildah || echo docker)
BASE ?= python:3.11-slim

image: $(STAMP)
	$(BUILDER) build --build-arg BASE=$(BASE) -t $(IMAGE) -f Dockerfile .

# image/requirements.lock: pip's resolution of pyproject.toml's pins and the build backend.
lock: $(STAMP)
	$(BIN)/pip install --quiet --dry-run --ignore-installed --report - . 'setuptools>=68' wheel \
		| $(PYTHON) image/lock.py > image/requirements.lock

bench-gate: $(STAMP)
	$(PYTHON) -m bench.gate --json .ci/artifacts/bench-500.json

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
