"""One module per schema revision, in order: ``v0001_schema`` then ``v0002_markings_rls``."""
