"""The judging layer every stage shares: what a test observes, the plain-data codec, request builders, splits."""
