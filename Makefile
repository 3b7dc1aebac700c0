# Pose Zoo: the commands a newcomer needs. See README.md.
.PHONY: setup demo test bench lint format clean

setup:
	bash ci/setup.sh

demo: setup
	.venv-ms/bin/python ci/run_all.py demo

test: setup
	bash ci/test.sh

bench: setup
	.venv-ms/bin/python ci/run_all.py bench

lint: setup
	.venv-ms/bin/ruff check .
	.venv-ms/bin/ruff format --check .

format: setup
	.venv-ms/bin/ruff check --fix .
	.venv-ms/bin/ruff format .

clean:
	rm -rf demo_out bench_out .pytest_cache
