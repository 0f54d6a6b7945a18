"""The class a request is about, checked against who asks: its instructors and administrators only."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from backend.accounts.deps import ApiUser, StaffUser
from backend.cohorts import service
from backend.db import SessionDep
from backend.models import Cohort


def get_managed_cohort(cohort_id: int, session: SessionDep, user: StaffUser) -> Cohort:
    """403 for trainees (StaffUser) and for instructors who do not teach this class."""
    cohort = service.get_cohort(session, cohort_id)
    service.require_staff_of(session, cohort=cohort, user=user)
    return cohort


def get_api_managed_cohort(cohort_id: int, session: SessionDep, user: ApiUser) -> Cohort:
    cohort = service.get_cohort(session, cohort_id)
    service.require_staff_of(session, cohort=cohort, user=user)
    return cohort


ManagedCohort = Annotated[Cohort, Depends(get_managed_cohort)]
ApiManagedCohort = Annotated[Cohort, Depends(get_api_managed_cohort)]
