"""Shared package of the DSI platform: message contracts, vocabularies and common dependency providers.

Services import from here, never from each other.
"""
import warnings

# eventlet announces its deprecation on import; nameko 2 depends on it, and the notice is noise in every log.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
