"""Flow-matching few-step sampling of chunks, the context pass, and recache execution."""
