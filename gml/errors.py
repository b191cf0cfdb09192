"""Errors that gml shows to users as one line, without a traceback."""


class GmlError(Exception):
    """Base of gml's user-facing errors: the CLI prints ``str(err)`` and exits with ``exit_code``."""

    exit_code = 1


class GmlConfigError(GmlError, ValueError):
    """A mistake in user input. ``path`` is the key path of the offending value, e.g. ``task.search_args[2].data``."""

    exit_code = 2

    def __init__(self, path: str, message: str = None):
        if message is None:
            # Re-raised with one argument, as mmcv's build_from_cfg does (``type(e)(f'{cls}: {e}')``): keep the text.
            path, message = "", path
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path else message)


class TaskBusyError(GmlError):
    """Another controller holds the task."""

    exit_code = 3
