.PHONY: run test lint
run:
	./run.sh
test:
	scripts/test
lint:
	.venv/bin/ruff check gongwen tests && .venv/bin/lint-imports --no-cache
