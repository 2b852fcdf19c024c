"""Teacher LLMs: one OpenAI-compatible client, a response cache, accounting, output parsing, and an embedded
offline model. Import from the submodules (``codefoundry.teacher.client`` etc.); nothing heavy loads here."""
