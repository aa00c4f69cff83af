# The two commands of the README. Both create .venv/ and install Flowza first if needed.
.PHONY: setup up demo test

setup:
	@bash infra/setup.sh

up: setup
	@.venv/bin/flowza up

demo: setup
	@.venv/bin/flowza run examples/titanic.json

test: setup
	@bash infra/setup_browser.sh
	@.venv/bin/python -m pytest
