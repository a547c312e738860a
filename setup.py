"""Maps the design card's top-level folders into one ``ualm_agent`` namespace.

The package list is generated from the folders, so a new subfolder can never
be silently left out of the wheel (tests/test_packaging.py checks it too).
"""

from setuptools import find_packages, setup

ROOTS = {
    "ualm_agent": "ualm_agent",
    "ualm_agent.components": "components",
    "ualm_agent.graphs": "graphs",
    "ualm_agent.prompts": "prompts",
}

packages, package_dir = [], {}
for package, folder in ROOTS.items():
    package_dir[package] = folder
    packages.append(package)
    for sub in find_packages(folder):
        packages.append(f"{package}.{sub}")
        package_dir[f"{package}.{sub}"] = f"{folder}/{sub.replace('.', '/')}"

setup(packages=packages, package_dir=package_dir)
