from dsi.migrations import run_env
from services.content.models import Base

run_env(Base.metadata)
