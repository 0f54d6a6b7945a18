"""Browser journeys, accessibility checks and API fuzzing: the quality gates of issue 9."""
