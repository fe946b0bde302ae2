"""The benchmarks: lambdawarmer beside lambda-warmer-py and a bare function, figures in results.md."""
