"""Planners backends."""

from ualm_agent.errors import UsageError


def no_sound_event(prompt: str, why: str = "") -> UsageError:
    """The error for a prompt in which a planner finds nothing to play (exit code 2)."""
    shown = " ".join(prompt.split())
    if len(shown) > 60:
        shown = shown[:57].rstrip() + "..."
    reason = f" ({why})" if why else ""
    return UsageError(f'no sound event found in the prompt "{shown}"{reason}; describe a sound, e.g. "a dog barks three times"')
