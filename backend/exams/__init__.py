"""Final exams: eligibility, drawn papers, taking and autosave, grading, results, question bank."""
