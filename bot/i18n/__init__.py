"""Words in English and French: the phrases (`texts.say`, from `data/*.toml`), the catalogue of
MouvONE's codes and failure kinds (`data/catalogue.toml`), the outcome notes stored as keys, and
the reader's language.

May import: the standard library and pydantic only.
"""
