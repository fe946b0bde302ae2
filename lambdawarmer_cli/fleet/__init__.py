"""``lambdawarmer fleet``: many functions, in many regions and accounts, through the same plans and
checks as ``enable``, ``disable`` and ``status``.

scope.py says where (accounts reached, regions), discovery.py which functions (the Resource Groups
Tagging API), work.py what is done to each, in parallel, and table.py how the result is shown.
"""
