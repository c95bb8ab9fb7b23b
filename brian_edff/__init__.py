"""brian-edff: event-driven forward-forward (CSDP) learning in Brian2."""

__version__ = "0.1.0"
