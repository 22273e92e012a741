"""Jobs: the stage graph (stages.py) and the runners that run it (runner.py, celery_app.py)."""


class BrokerError(RuntimeError):
    """The broker (Redis) cannot be reached, or is not one the runner can track runs on."""
