"""Training classes (培训班): classes, enrolment (one by one and bulk import), the timetable and
attendance, and the class dashboard with its exports."""
