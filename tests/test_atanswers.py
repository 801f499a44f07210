"""Reading AT answers as the device families write them (tests/fakeprofiles.py has the sources)."""

from __future__ import annotations

import pytest

from modemd.drivers.atanswers import info_value, quoted, sim_state, storage_figures
from modemd.drivers.base import StorageInfo


@pytest.mark.parametrize(
    "lines, value",
    [
        ([" WAVECOM MODEM"], "WAVECOM MODEM"),  # Wavecom: a leading space
        (["Manufacturer: huawei"], "huawei"),  # ATI style
        (['+CGMI: "SIMCOM_Ltd"'], "SIMCOM_Ltd"),
        (["", "E173"], "E173"),
        ([], ""),
        (["\x80\xf8\xfe"], "\x80\xf8\xfe"),  # garbage is passed on as it is, never raises
    ],
)
def test_info_value(lines, value):
    assert info_value(lines) == value


@pytest.mark.parametrize(
    "lines, state",
    [
        (["+CPIN: READY"], "READY"),
        (["+CPIN: SIM PIN"], "SIM PIN"),
        ([], "READY"),  # a bare OK
        (["+WIND: 4"], "READY"),
    ],
)
def test_sim_state(lines, state):
    assert sim_state(lines) == state


@pytest.mark.parametrize(
    "lines, figures",
    [
        (['+CPMS: "SM",3,30,"SM",3,30,"SM",3,30'], StorageInfo(3, 30)),
        (['+CPMS: "SM",14,50,"SM",14,50'], StorageInfo(14, 50)),  # Wavecom: two memories
        (["+CPMS: ,,,,,,,,"], None),  # Nokia N79: no message storage
        (["+CPMS: (),(),()"], None),
        (['+CPMS: "SM",x,30'], None),
        ([], None),
    ],
)
def test_storage_figures(lines, figures):
    assert storage_figures(lines) == figures


def test_quoted_field():
    pattern = r'\+CSCA:\s*"([^"]*)"'
    assert quoted(['+CSCA: "+6281100000",145'], pattern) == "+6281100000"
    assert quoted(['+CSCA: "",129'], pattern) == ""
    assert quoted(["+CSCA: 145"], pattern) == ""
