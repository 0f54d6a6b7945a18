"""Courses: the shipped curriculum format, its parser and its validator."""
