"""Answers the platform gives in words a user reads, whatever model it runs."""

# A question no document of the tenant covers: answered without asking the model.
NOT_IN_KNOWLEDGE_BASE = "I could not find an answer to that in the knowledge base."
