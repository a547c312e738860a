"""Sound sources for the composer's timeline mixer.

A source says which labels it can render and how well (``find``), and renders
one occurrence of a sound at a given length, seed and take (``render``). The
mixer in :mod:`..generators.composer` asks every configured source, renders the
best match and owns everything else: placement, level, fades and what could
not be rendered. Sources are registered under the part role ``source``; a
plugin registers its own the same way and names it in ``[generator] sources``.
"""
