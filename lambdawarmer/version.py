"""The version of lambdawarmer, written here only: the package, the reports and pyproject.toml read it."""

__version__ = "1.7.0"
