"""Runtime context: the components and settings every node reads.

The context is never checkpointed, so loaded models stay out of the state and a
resumed run gets them from its (rebuilt) context.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from functools import cached_property

from ualm_agent.builders import Components, build_components
from ualm_agent.config import AgentConfig


@dataclass
class AgentContext:
    """Pass ``components`` to inject instances; otherwise they are built from ``config``."""

    config: AgentConfig = field(default_factory=AgentConfig)
    components: Components | None = None
    # Folder for round audio; a temporary one when the caller gives none.
    workdir: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.config, dict):  # e.g. context sent as JSON to a LangGraph server
            self.config = AgentConfig.model_validate(self.config)
        if self.workdir is None:
            self.workdir = tempfile.mkdtemp(prefix="ualm-agent-")

    @cached_property
    def roles(self) -> Components:
        return self.components if self.components is not None else build_components(self.config)
