"""What a job looks like to the person following it (the page and GET /api/v1/jobs/{id})."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, computed_field


class JobPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    title: str = ""  # payload["title"], when the feature that started the job gave one
    status: str
    total: int
    done: int
    message: str
    result: dict[str, Any] | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def percent(self) -> int | None:
        """0-100, or None while the total is unknown (the page then shows an indeterminate bar)."""
        if self.status == "done":
            return 100
        if self.total <= 0:
            return None
        return min(100, self.done * 100 // self.total)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def result_url(self) -> str | None:
        """The handler's `result["url"]`, when it is a path on this site."""
        url = (self.result or {}).get("url")
        if isinstance(url, str) and url.startswith("/") and not url.startswith("//") and "\\" not in url:
            return url
        return None
