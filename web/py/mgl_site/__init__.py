"""The site's Python side: what the pages ask of micrograd_like, run inside Pyodide.

This is glue, not a second engine: it imports the unmodified micrograd_like wheel and calls
its public API (``draw_dot``, ``Stepper``, ``nn``, ``optim``, ...). ``playground`` runs a
snippet and steps through its value's graph; ``training`` runs micrograd's demo one step at
a time; ``api`` is the JSON interface the Web Worker calls. Each module also runs in CPython,
where the tests compare its answers with the library's.
"""
