"""The one exception type for user mistakes: the CLI prints its message as one line, no traceback."""


class UserError(ValueError):
    """Bad input from the user (a recipe, a path, a flag). The message names the file and field."""
