"""The web UI (skeleton until the blueprints land)."""

from __future__ import annotations

from flask import Flask


def create_app(config=None, test_config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config["MODEMD"] = config
    if test_config:
        app.config.update(test_config)

    @app.get("/")
    def index():
        """Front page."""
        return "modemd"

    return app
