"""Run the CLI from a checkout: ``python cli.py run "a dog barks three times"``.

Installed, the folders components/, graphs/ and prompts/ are ``ualm_agent.*``
subpackages. From an uninstalled checkout this maps them the same way, so no
folder is ever imported under a bare name (which would load classes twice).
"""

import importlib.util
import sys
from pathlib import Path


def _map_checkout_folders() -> None:
    import ualm_agent

    root = Path(__file__).resolve().parent
    for sub in ("components", "graphs", "prompts"):
        name = f"ualm_agent.{sub}"
        if name in sys.modules or importlib.util.find_spec(name) is not None:
            continue
        spec = importlib.util.spec_from_file_location(
            name, root / sub / "__init__.py", submodule_search_locations=[str(root / sub)]
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        setattr(ualm_agent, sub, module)


if __name__ == "__main__":
    _map_checkout_folders()
    from ualm_agent.cli import main

    main()
