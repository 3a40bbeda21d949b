"""The reliability suite: long runs against a real ``intercoder serve``, with figures.

Each part is a module run as ``python -m tests.reliability.<part>`` (crash, faults, fuzz,
load); ``python -m tests.reliability`` runs them all in turn (``tests.reliability.suite``).
Short versions of the parts run as slow pytest tests.
"""
