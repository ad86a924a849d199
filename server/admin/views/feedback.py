"""满意度调查 and 常见问题: monthly surveys, answers to opinions, common problems answered by a notice."""
from __future__ import annotations
