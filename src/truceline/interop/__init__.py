"""Standards at the edge: CAP 1.2 alerts (``interop.cap``), STIX 2.1 objects and TAXII 2.1 (``interop.stix``,
``interop.taxii``). Each subpackage converts between these formats and ``truceline.model`` records and validates
with the standard's own schema or reference tool."""
