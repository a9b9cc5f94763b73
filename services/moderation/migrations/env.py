from dsi.migrations import run_env
from services.moderation.models import Base

run_env(Base.metadata)
