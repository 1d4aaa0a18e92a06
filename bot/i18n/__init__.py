"""Words in English and French: the reader's language, the catalogue of MouvONE's codes and
failure kinds, and the phrases around them.

May import: the standard library and pydantic only.
"""
