"""Store errors, importable without loading SQLAlchemy (the CLI catches them)."""


class StoreError(RuntimeError):
    """The store cannot be opened or is not at the expected schema."""
