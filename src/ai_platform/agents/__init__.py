"""Agents with tools (RAG search is one), per-session memory, and a tenant check."""

from ai_platform.agents.agent import Agent, AgentReply, TenantMismatch
from ai_platform.agents.tools import KnowledgeBaseTool, Tool, ToolResult

__all__ = ["Agent", "AgentReply", "KnowledgeBaseTool", "TenantMismatch", "Tool", "ToolResult"]
