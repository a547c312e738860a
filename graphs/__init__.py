"""LangGraph graphs over the role interfaces."""
