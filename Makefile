.PHONY: run test
run:  ## set up and run the server on embedded defaults
	bash scripts/run.sh
test:  ## set up and run every check and test
	bash scripts/test.sh
