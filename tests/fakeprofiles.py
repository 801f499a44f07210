"""Fake-modem profiles of the device families Pemda server rooms actually have.

Each profile is the fake modem (tests/fakemodem.py) with one family's
identity, storage and firmware quirks. Every quirk names the public record of
it on a real device; the AT driver must cope with each by behaviour (a bounded
wait, a retry on a busy cause, setting the SMSC again), never by model name,
so an unknown device with the same habit works too.

Sources (read, not copied):

* python-gsmmodem ``test/fakemodems.py`` (faucamp/python-gsmmodem): response
  tables recorded from a Wavecom Multiband 900E 1800, Huawei K3715 and E1752,
  a Qualcomm/ZTE M6280, a ZTE K3565-Z and a Nokia N79.
* python-gsmmodem issues #8 (SMSC wiped after connect) and #10 (SMSC not
  available for some seconds after start: ``+CME ERROR: 14`` on AT+CSCA?).
* Gammu issues #111 and #138 (``^RSSI`` lines from Huawei E3372/E1752 between
  answers), #337 (messages at location 0).
* Seeed-Studio/GPRS_SIM900 issue #39 (SIM800L refuses AT+CMGF until it has
  printed ``+CPIN: READY``, ``Call Ready``, ``SMS Ready``); TinyGSM issue #608
  (SIM7000 prints ``SMS Ready`` when it boots).
* Wavecom AT command manual WM_DEV_OAT_UGD_049, "General Indications +WIND"
  (unsolicited ``+WIND: <event>`` after boot, e.g. 4 = ready for all AT
  commands), and the Wavecom WMO2 manual on +IPR (serial rate fixed at, e.g.,
  9600, autobauding only up to 19200).
* Huawei MU609 Application Guide 1.3 "Port sequence on Linux" (MODEM, DIAG and
  PCUI ports: ttyUSB0/1/2; DIAG answers no AT).
* smslib-v3 pull request #12 (Huawei E220 answers ``+CMS ERROR: 330`` until
  AT+CSCA is set again).
* 3GPP TS 27.005 3.4.1 (+CNMI mode 0 buffers indications; <bfr> 0 flushes them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fakemodem import FakeModem, Quirks


@dataclass(frozen=True)
class Profile:
    """A device family: what the fake says it is, how it misbehaves, and its serial ports."""

    name: str
    identity: dict[str, str]
    quirks: Quirks
    capacity: int = 30
    baudrate: int | None = None  # a serial modem fixed at this rate
    can_receive: bool = True
    #: other ports the same device brings up, by kind ("at-no-sms", "silent"), as detect sees them
    side_ports: tuple[str, ...] = ()
    #: lines the profile's user would have in [modem:NAME]
    settings: dict[str, str] = field(default_factory=dict)

    def fake(self, **overrides) -> FakeModem:
        values = dict(self.identity, capacity=self.capacity, quirks=self.quirks, baudrate=self.baudrate)
        values.update(overrides)
        return FakeModem(**values)


WAVECOM = Profile(
    name="wavecom-fastrack",
    identity={
        "manufacturer": "WAVECOM MODEM",
        "model": "MULTIBAND  900E  1800",
        "firmware": "R7.46.0.201008",
        "imei": "351234560000011",
    },
    quirks=Quirks(
        cpin_final_ok=False,  # python-gsmmodem fakemodems.py WavecomMultiband900E1800: "+CPIN replies are not ended with OK"
        busy_after_power_on=3,  # same profile: +CME ERROR: 515 for a while after AT+CFUN=1 (deviceBusyErrorCounter)
        cpms_memories=2,  # same profile: AT+CPMS="SM","SM","SR" -> ERROR, AT+CPMS="SM","SM" -> +CPMS: 14,50,14,50
        boot_lines=("+WIND: 1", "+WIND: 3", "+WIND: 7", "+WIND: 4"),  # Wavecom manual, +WIND events after boot
        first_index=1,
    ),
    capacity=50,  # the same table: 50 slots
    baudrate=9600,  # Wavecom WMO2 manual, +IPR: "+IPR: 9600" as the example current rate
    settings={"baudrate": "auto"},
)

HUAWEI = Profile(
    name="huawei-e173",
    identity={"manufacturer": "huawei", "model": "E173", "firmware": "11.126.85.00.209", "imei": "358880041234567"},
    quirks=Quirks(
        error_text="COMMAND NOT SUPPORT",  # python-gsmmodem fakemodems.py HuaweiE1752: non-standard error message
        periodic_lines=("^RSSI:17", "^BOOT:12345678,0,0,0,72", "^MODE:5,4"),  # Gammu issues #111, #138 (^RSSI)
        ussd_needs_mode0=True,  # HuaweiE1752 in the same file: AT+CUSD=1 -> ERROR while ^USSDMODE is 1
    ),
    capacity=23,  # Gammu issue #126: E1752 reports +CPMS: 0,23,...
    side_ports=("at-no-sms", "silent"),  # Huawei MU609 guide: MODEM, DIAG and PCUI ports
)

ZTE = Profile(
    name="zte-mf627",
    identity={
        "manufacturer": "ZTE INCORPORATED",
        "model": "MF627",
        "firmware": "BD_P673A2V1.0.0B09",
        "imei": "357654030000022",
    },
    quirks=Quirks(
        csca_busy_reads=3,  # python-gsmmodem issue #10 / QualcommM6280 commandsSimBusy: +CME ERROR: 14 on AT+CSCA?
        csmp_clears_smsc=True,  # python-gsmmodem issue #8 / QualcommM6280: AT+CSMP= clears the SMSC number
        first_index=0,  # Gammu issue #337: the first received message at location 0
    ),
    capacity=50,
    # guides for these sticks put text-mode parameters into the init string; with this firmware
    # that wipes the SMSC, and the next send fails with +CMS ERROR: 330 (smslib-v3 PR #12)
    settings={"init": "AT+CSMP=17,167,0,0"},
)

SIMCOM = Profile(
    name="simcom-sim800",
    identity={
        "manufacturer": "SIMCOM_Ltd",
        "model": "SIMCOM_SIM800",
        "firmware": "Revision:1418B04SIM800L24",
        "imei": "862951030000033",
    },
    quirks=Quirks(
        boot_lines=("RDY", "+CFUN: 1", "+CPIN: READY", "Call Ready"),  # GPRS_SIM900 issue #39, TinyGSM #608
        sms_ready_after=1.5,  # GPRS_SIM900 issue #39: AT+CMGF answers ERROR until "SMS Ready"
        sms_ready_line="SMS Ready",
        first_index=1,
    ),
    capacity=20,
)

PHONE = Profile(
    name="nokia-phone",
    identity={"manufacturer": "Nokia", "model": "Nokia N79", "firmware": "V ICPR72_08w44.1", "imei": "356789010000044"},
    quirks=Quirks(
        cpms_memories=0,  # python-gsmmodem fakemodems.py NokiaN79: AT+CPMS?/= "not supported"
        cnmi_supported=False,  # same: "SMS reading and notifications not supported"
    ),
    can_receive=False,
)

PROFILES = (WAVECOM, HUAWEI, ZTE, SIMCOM, PHONE)
