"""The directory's outside resources, as nameko dependency providers."""
from dsi.database import Database, ListTotals
from dsi.messaging import Outbox

from .models import Base, Outbox as OutboxTable

database = Database(Base)
outbox = Outbox(OutboxTable)
totals = ListTotals()
