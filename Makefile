# Used by `sam build` (template.yaml: BuildMethod makefile). The layer itself: ./build.sh.
build-LambdaWarmerLayer:
	python3 layer/build_layer.py --tree "$(ARTIFACTS_DIR)"
