"""The commands, one module each with its parser (``add_parser``) and its ``run``; main.py wires them."""
