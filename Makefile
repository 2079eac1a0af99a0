# The two commands of the README: `make run` and `make test`. Both set themselves up.
VENV := .venv
PY := $(VENV)/bin/python
CONFIG ?= config/filterproxy.yaml

.PHONY: run test lint typecheck unit fuzz bench-reload bench bench-classify bench-dns bench-dns-realistic bench-http bench-incidents bench-gateway clean

run:
	FILTERPROXY_CONFIG=$(CONFIG) scripts/run.sh

test:
	scripts/test.sh $(PYTEST_ARGS)

lint:
	$(VENV)/bin/ruff check filterproxy tests bench

typecheck:
	$(VENV)/bin/mypy

bench: bench-classify bench-dns bench-http bench-incidents

bench-classify:
	scripts/bootstrap.sh bench
	$(PY) -m bench.classify

bench-dns:
	scripts/bootstrap.sh bench
	$(PY) -m bench.dns

bench-dns-realistic:
	scripts/bootstrap.sh bench
	$(PY) -m bench.dns --traffic realistic --json bench-dns-realistic.json

bench-http:
	scripts/bootstrap.sh bench
	$(PY) -m bench.http

bench-incidents:
	scripts/bootstrap.sh bench
	$(PY) -m bench.incidents

bench-gateway:
	scripts/bootstrap.sh bench
	$(PY) -m bench.gateway

# not part of `make test`: about 10 minutes on 2 cores; loopback only, bounded in count and time
fuzz:
	$(PY) -m bench.fuzz

bench-reload:
	$(PY) -m bench.reload

clean:
	rm -rf $(VENV) var artifacts .mypy_cache .ruff_cache
