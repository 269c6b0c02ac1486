"""One module per schema revision, in order: ``v0001_schema``, ``v0002_markings_rls``, ``v0003_updated_heads``."""
