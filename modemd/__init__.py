"""modemd: an on-premise SMS Center for Indonesian local governments."""

__version__ = "0.1.0"
