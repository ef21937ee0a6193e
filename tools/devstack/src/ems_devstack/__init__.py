"""Local AWS stack orchestration for development and tests (never deployed)."""
