"""The one exception hierarchy of sianode.

``SianodeError`` is the base. ``InputError`` is bad user input: the CLI prints its
message as one line and exits with status 2. ``CalculationFailed`` is a calculation
that ran and failed (no convergence, NaN energy, atoms too close): the store records
it as ``failed`` with the message as its reason, never as a number.
``DatabaseUnavailable`` is a database that cannot be reached or refuses us.

Every message names the bad value and what is allowed.
"""

from __future__ import annotations


class SianodeError(Exception):
    """Base class of every error sianode raises on purpose."""


class InputError(SianodeError, ValueError):
    """Bad user input; the message names the value and what is allowed."""


class CalculationFailed(SianodeError):
    """A calculation ran and failed; recorded in the store as ``failed``."""


class DatabaseUnavailable(SianodeError):
    """The results database cannot be reached, or refused the credentials."""
