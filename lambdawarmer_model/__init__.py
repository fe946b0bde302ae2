"""A model of Lambda serving a function's traffic under warming policies, and what each costs.

Used by ``lambdawarmer cost`` (the command line) and by the bench, which both import it; it imports
only the runtime's time budget and settings (``lambdawarmer.timing``, ``lambdawarmer.config``), so
the rounds it prices are the rounds the layer runs. ``traffic`` (a function's requests), ``rounds``
(what one round bills), ``simulation`` (which requests start cold), ``policies`` (how N is chosen at
each ping), ``prices`` (Lambda's), ``replay`` (every policy on the same traffic, priced).
"""
