"""The one guard in front of every route (``guard``): the route table of
``access``, who is asking (``askers``) and how often (``clients``), bodies
read before the app sees them (``bodies``), and what it answers itself
(``replies``)."""

from .access import ADMIN_HEADER, Access, access_of
from .guard import Guard, GuardSettings

__all__ = ["ADMIN_HEADER", "Access", "Guard", "GuardSettings", "access_of"]
