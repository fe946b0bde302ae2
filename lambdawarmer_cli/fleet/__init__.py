"""``lambdawarmer fleet``: many functions, regions and accounts, through the single-function code.

The same plans and checks as ``enable``, ``disable`` and ``status``.

scope.py says where (accounts reached, regions), discovery.py which functions (the Resource Groups
Tagging API), work.py what is done to each, in parallel, and table.py how the result is shown.
"""
