"""The reference LLM platform that the acceptance suite accepts."""
