# Collect every pack's fixtures/*.yaml as pytest items, the way third-party packs do.
from lifecycle_rules.testing import pytest_collect_file

__all__ = ["pytest_collect_file"]
