"""python-gammu is an extra (``modemd[gammu]``): without it, ``driver = gammu`` is a clear
configuration problem (file:line, section, key, how to install it), never an ImportError
traceback when the daemon starts; the other drivers do not care.

Each test runs modemd in a subprocess whose ``sys.modules['gammu'] = None`` makes
``import gammu`` fail exactly as on a machine without python-gammu.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

WITHOUT_GAMMU = textwrap.dedent("""
    import sys
    sys.modules["gammu"] = None  # import gammu now raises ImportError, as without python-gammu
    from modemd.cli import main
    sys.exit(main(sys.argv[1:]))
""")


def modemd_without_gammu(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_GAMMU, *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_gammu_driver_without_python_gammu_is_a_config_problem(write_config, tmp_path):
    path = write_config("[modem:kantor]\ndriver = gammu\ndevice = /dev/ttyUSB0\n[modem:sim1]\ndriver = sim\n")
    result = modemd_without_gammu("check", "--config", str(path))
    assert result.returncode != 0, result.stdout + result.stderr
    expected = f"{path}:5: error: [modem:kantor] driver: gammu needs python-gammu: pip install 'modemd[gammu]'"
    assert expected in result.stderr + result.stdout, result.stderr + result.stdout
    assert "Traceback" not in result.stderr, result.stderr


def test_at_and_sim_drivers_do_not_need_python_gammu(write_config):
    path = write_config("[modem:m1]\ndriver = at\ndevice = /dev/ttyUSB0\n[modem:sim1]\ndriver = sim\n")
    result = modemd_without_gammu("check", "--config", str(path))
    assert "python-gammu" not in result.stderr + result.stdout, result.stderr + result.stdout
    assert "Traceback" not in result.stderr, result.stderr
