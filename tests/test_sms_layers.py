"""modemd.sms is a pure codec in three layers, as its package docstring says.

Importing a layer loads the Python standard library and the layers below it,
nothing else: no python-gammu, pyserial, peewee or other modemd module (the
fake modem, the web UI's counter and the drivers all lean on that), and
``gsm7`` never depends on ``segmentation`` or ``tpdu``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

LAYERS = ["modemd.sms.gsm7", "modemd.sms.segmentation", "modemd.sms.tpdu"]


def loaded_after_import(module: str) -> set[str]:
    """The top-level packages and modemd modules a fresh interpreter holds after ``import module``."""
    script = (
        "import sys, json; before = set(sys.modules); "
        f"import {module}; "
        "print(json.dumps(sorted(set(sys.modules) - before)))"
    )
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True).stdout
    return set(json.loads(out))


@pytest.mark.parametrize("position", range(len(LAYERS)))
def test_a_layer_loads_only_the_stdlib_and_the_layers_below(position: int) -> None:
    loaded = loaded_after_import(LAYERS[position])
    ours = {name for name in loaded if name == "modemd" or name.startswith("modemd.")}
    allowed = {"modemd", "modemd.sms", "modemd.sms.errors", *LAYERS[: position + 1]}
    assert ours == allowed
    foreign = {name.split(".")[0] for name in loaded - ours} - set(sys.stdlib_module_names) - {"_distutils_hack"}
    assert not foreign, f"{LAYERS[position]} pulls in {sorted(foreign)}"


def test_the_package_re_exports_nothing() -> None:
    import modemd.sms

    public = {name for name in vars(modemd.sms) if not name.startswith("_")}
    # Submodules appear as attributes once imported; nothing else may be there.
    assert public <= {"errors", "gsm7", "segmentation", "tpdu", "reassembly", "phone"}
