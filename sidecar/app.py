"""The web application factory. Nothing is built at import time."""

from __future__ import annotations

import os

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from sidecar.config import Config, load_config
from sidecar.logs import configure_logging
from sidecar.runtime import Runtime, build_runtime
from sidecar.web.health import blueprint as health
from webhooks.intake import blueprint as intake


def create_app(config: Config | None = None, *, runtime: Runtime | None = None) -> Flask:
    """Build the web app.

    With no arguments (as gunicorn calls ``sidecar.app:create_app()``) the configuration comes from
    ``MUG_CONFIG`` and the ``MUG_*`` environment variables.
    """
    if runtime is None:
        if config is None:
            config = load_config(os.environ.get("MUG_CONFIG"), os.environ)
            configure_logging(config.logging.level, config.logging.format)
        runtime = build_runtime(config)

    app = Flask(__name__)
    app.extensions["mug"] = runtime
    app.register_blueprint(intake)
    app.register_blueprint(health)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[Response, int]:
        code = exc.code or 500
        return jsonify(error=(exc.name or "error").lower().replace(" ", "_"), message=exc.description), code

    return app
