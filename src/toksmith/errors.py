"""Errors a user can cause. The CLI turns them into one line and exit status 2."""


class UserError(Exception):
    """Bad input from the user: the message names the value and what was expected."""
