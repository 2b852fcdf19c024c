"""The judging layer every stage shares: test observation, plain types and codec, request builders, splits."""
