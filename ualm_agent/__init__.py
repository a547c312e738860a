"""ualm-agent: the UALM-Reason loop (plan → generate → listen → caption → critique → revise)."""

__version__ = "0.1.0"
