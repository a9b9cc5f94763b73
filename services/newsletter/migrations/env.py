from dsi.migrations import run_env
from services.newsletter.models import Base

run_env(Base.metadata)
